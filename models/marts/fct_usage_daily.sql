{#-
  Usage by customer, day and billable metric (the BI view). quantity aggregates the day's metered
  events the metric's way: COUNT/SUM add up, MAX is the day's maximum, UNIQUE the day's distinct
  values, LATEST the day's last value.
-#}
with metered_events as (

    select
        *,
        cast(event_at as date) as usage_date
    from {{ ref('int_metered_events') }}
    where aggregation <> 'sql'

),

structured as (

    {{ billing.aggregate_metric_events(
        'metered_events', ['customer_id', 'contract_id', 'usage_date', 'billable_metric', 'group_values']
    ) }}

),

sql_metrics as (

    select customer_id, contract_id, usage_date, billable_metric, group_values, quantity, event_count
    from {{ ref('int_sql_metric_daily') }}

),

final as (

    select * from structured
    union all
    select * from sql_metrics

)

select * from final
