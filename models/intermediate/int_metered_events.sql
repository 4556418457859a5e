{#-
  The (event, metric) matches that are billed: all of them except events with a non-numeric value
  for any metric they match (those events are rejected as a whole, see fct_event_outcomes).
-#}
with metric_events as (

    select * from {{ ref('int_metric_events') }}

),

non_numeric_events as (

    select distinct transaction_id
    from metric_events
    where is_non_numeric

),

final as (

    select metric_events.*
    from metric_events
    left join non_numeric_events
        on metric_events.transaction_id = non_numeric_events.transaction_id
    where non_numeric_events.transaction_id is null

)

select * from final
