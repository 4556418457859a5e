{#-
  Spend and usage alerts valued per billing period (DECISIONLOG D69): one row per covered customer
  and evaluated period, the period's spend (in the contract's currency) or its usage of the alert's
  metric, 0 when there is none; and, for a customer without a period in progress, one row with
  nothing to watch (a null value).
-#}
with coverage as (

    select * from {{ ref('int_alert_coverage') }}
    where is_period_alert

),

periods as (

    select * from {{ ref('int_alert_periods') }}

),

period_spend as (

    select * from {{ ref('int_alert_period_spend') }}

),

period_usage as (

    select * from {{ ref('int_alert_period_usage') }}

),

customer_current_windows as (

    select distinct customer_id
    from periods
    where is_current_window

),

final as (

    select
        coverage.alert_id,
        coverage.alert_type,
        coverage.customer_id,
        coverage.billable_metric,
        coverage.threshold,
        case when coverage.alert_type = 'spend_threshold_reached' then periods.currency end as currency,
        case coverage.alert_type
            when 'spend_threshold_reached' then coalesce(period_spend.spend, 0)
            else coalesce(period_usage.quantity, 0)
        end as current_value,
        periods.window_key,
        periods.is_current_window
    from coverage
    inner join periods
        on coverage.customer_id = periods.customer_id
    left join period_spend
        on periods.invoice_id = period_spend.invoice_id
    left join period_usage
        on
            periods.invoice_id = period_usage.invoice_id
            and coverage.billable_metric = period_usage.billable_metric

    union all

    select
        coverage.alert_id,
        coverage.alert_type,
        coverage.customer_id,
        coverage.billable_metric,
        coverage.threshold,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as {{ billing.type_decimal() }}) as current_value,
        cast(null as {{ dbt.type_string() }}) as window_key,
        true as is_current_window
    from coverage
    left join customer_current_windows
        on coverage.customer_id = customer_current_windows.customer_id
    where customer_current_windows.customer_id is null

)

select * from final
