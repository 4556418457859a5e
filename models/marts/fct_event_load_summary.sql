{#- Per load (one loaded_at per `billing ingest` run): how many raw rows ended in each outcome and reason.
    Adds up to raw.usage_events. -#}
with outcomes as (

    select * from {{ ref('fct_event_outcomes') }}

),

final as (

    select
        loaded_at,
        outcome,
        reason,
        count(*) as event_count
    from outcomes
    group by loaded_at, outcome, reason

)

select * from final
