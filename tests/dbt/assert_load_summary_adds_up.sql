{#- The per-load summary counts add up to the rows in raw.usage_events. -#}
with summary as (

    select sum(event_count) as summarised from {{ ref('fct_event_load_summary') }}

),

raw_rows as (

    select count(*) as landed from {{ source('raw', 'usage_events') }}

)

select summarised, landed
from summary
cross join raw_rows
where coalesce(summarised, 0) <> landed
