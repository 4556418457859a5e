{#-
  The (event, metric) matches that are billed: all of them except events with a non-numeric value
  for any metric they match (those events are rejected as a whole, see fct_event_outcomes).
  A view over the incremental int_metric_events.
-#}
{{ config(materialized='view') }}
with metric_events as (

    select * from {{ ref('int_metric_events') }}

),

final as (

    select *
    from metric_events
    where not is_event_non_numeric

)

-- AM04: `*` is every column of int_metric_events (this view only filters it)
select * from final  -- noqa: AM04
