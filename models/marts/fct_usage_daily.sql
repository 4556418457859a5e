{#-
  Usage by customer, day and billable metric (the BI view). quantity aggregates the day's metered
  events the metric's way: COUNT/SUM add up, MAX is the day's maximum, UNIQUE the day's distinct
  values, LATEST the day's last value; from the day's partial aggregates (int_usage_daily_partials,
  DECISIONLOG D92), which are already at this grain: only UNIQUE's value rows are counted (D93).

  Incremental (DECISIONLOG D32): a build recomputes the (contract, day) pairs its new events fall
  on, and every day of customers a changed customer key moved events to or from.
-#}
{{ config(
    materialized=billing.event_model_materialization(),
    incremental_strategy='event_batch',
    on_schema_change='sync_all_columns',
    post_hook="{{ billing.record_event_batch() }}",
) }}
-- depends_on: {{ ref('int_attribution_keys') }}
with partials as (

    {{ billing.daily_batch_rows(ref('int_usage_daily_partials')) }}

),

structured as (

    {{ billing.finish_metric_partials(
        'partials', ['customer_id', 'contract_id', 'usage_date', 'billable_metric', 'group_values']
    ) }}

),

sql_metrics as (

    select
        customer_id,
        contract_id,
        usage_date,
        billable_metric,
        group_values,
        quantity,
        event_count
    from ({{ billing.daily_batch_rows(ref('int_sql_metric_daily')) }}) as sql_daily

),

final as (

    select * from structured
    union all
    select * from sql_metrics

)

select * from final
{{ billing.order_rows_by(['usage_date']) }}
