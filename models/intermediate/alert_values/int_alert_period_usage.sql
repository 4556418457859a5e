{#-
  The usage of each evaluated billing period (DECISIONLOG D69), per billable metric that a
  usage_threshold_reached alert watches: the metric's events of the contract in the period,
  aggregated the metric's way (count, sum, max, unique, latest).
-#}
-- depends_on: {{ ref('int_periods_to_rate') }}
with periods as (

    select * from {{ ref('int_alert_periods') }}

),

definitions as (

    select * from {{ ref('int_alert_definitions') }}

),

metered_events as (

    select * from {{ ref('int_metered_events') }}

),

period_events as (

    select
        periods.invoice_id,
        metered_events.billable_metric,
        metered_events.aggregation,
        metered_events.metric_value,
        metered_events.unique_value,
        metered_events.event_at,
        metered_events.transaction_id
    from metered_events
    inner join periods
        on metered_events.contract_id = periods.contract_id
    where
        metered_events.event_at >= periods.period_starting_at
        and metered_events.event_at < periods.period_ending_before
        -- a literal lower bound (the earliest period being rated), so that engines can prune
        and metered_events.event_at >= {{ billing.rating_window_start() }}
        and metered_events.billable_metric in (
            select definitions.billable_metric from definitions
            where definitions.alert_type = 'usage_threshold_reached'
        )

),

final as (

    {{ billing.aggregate_metric_events('period_events', ['invoice_id', 'billable_metric']) }}

)

select * from final
