{#-
  The per-load summary counts add up to the rows in raw.usage_events: in total, and load by load for
  the loads of the last build's batch (rows without a loaded_at form one group). The total is a count
  and a sum over the summary (a row per load and outcome); the per-load part reads only the batch's
  loads, so the test costs the new data, not the history (issue #19). One grouping of both sides, no
  join: linear in the rows however many loads there are (a streaming loader writes one per row;
  DECISIONLOG D42).
-#}
with raw_loads as (

    select cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from {{ source('raw', 'usage_events') }}

),

summarised as (

    select
        loaded_at,
        event_count as summarised,
        0 as landed
    from ({{ billing.tested_rows(ref('fct_event_load_summary')) }}) as tested

),

landed as (

    select
        loaded_at,
        0 as summarised,
        1 as landed
    from ({{ billing.tested_rows('raw_loads') }}) as tested

),

counts_per_load as (

    select
        loaded_at,
        sum(summarised) as summarised,
        sum(landed) as landed
    from (
        select * from summarised
        union all
        select * from landed
    ) as both_sides
    group by loaded_at

),

totals as (

    select
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
        (select coalesce(sum(event_count), 0) from {{ ref('fct_event_load_summary') }}) as summarised,
        (select count(*) from {{ source('raw', 'usage_events') }}) as landed

),

final as (

    select
        loaded_at,
        summarised,
        landed
    from counts_per_load
    where summarised <> landed

    union all

    select
        loaded_at,
        summarised,
        landed
    from totals
    where summarised <> landed

)

select * from final
