{#-
  Each alert of alerts.yml evaluated for each customer it covers, as of billing_as_of (DECISIONLOG
  D34, D66 to D69). The value an alert watches (models/intermediate/alert_values/), per type:
    spend_threshold_reached       spend of a billing period (charges before credits and commits: its
                                  USAGE invoice, the SCHEDULED invoices issued in it so far, and the
                                  late usage adjustments billed later for it)
    usage_threshold_reached       the billable metric over a billing period, aggregated the metric's
                                  way (count, sum, max, unique, latest)
    invoice_total_reached         the highest total among the customer's DRAFT invoices
    low_credit_balance_reached    what is left of the customer's ACTIVE credits (D67)
    low_remaining_commit_balance_reached   what is left of the customer's ACTIVE prepaid commits
                                  (a postpaid commit is a minimum spend, not a balance: D66)
  The rule of this model: the "reached" types are in alarm when value >= threshold, the "low" types
  when value <= threshold. A customer with nothing to watch (no period in progress, no active credit
  or prepaid commit) is 'ok' with a null value.
  Spend and usage alerts keep a state per billing period (D69): every period this build rates that
  has started is evaluated, one row per period, window_key naming it; is_current_window marks the
  period that holds as_of (or the one row of a customer without one), which fct_alerts shows.
  Other alerts have one row per customer (window_key: the invoice for invoice totals, else empty).
  currency is the contract's (money alerts), empty for usage alerts (metric units).
-#}
with period_values as (

    select * from {{ ref('int_alert_period_values') }}

),

customer_values as (

    select * from {{ ref('int_alert_customer_values') }}

),

valued as (

    select * from period_values
    union all
    select * from customer_values

),

final as (

    select
        alert_id,
        alert_type,
        customer_id,
        billable_metric,
        threshold,
        currency,
        current_value,
        window_key,
        is_current_window,
        case
            when current_value is null then 'ok'
            when alert_type like 'low%' and current_value <= threshold then 'in_alarm'
            when alert_type not like 'low%' and current_value >= threshold then 'in_alarm'
            else 'ok'
        end as state,
        {{ billing.as_of() }} as evaluated_at
    from valued

)

select * from final
