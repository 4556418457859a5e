{#-
  Each alert of alerts.yml evaluated for each customer it covers, as of billing_as_of (DECISIONLOG
  D34). The value an alert watches, per type:
    spend_threshold_reached       spend so far in the current billing period (fct_customer_spend)
    usage_threshold_reached       the billable metric over the current billing period, aggregated
                                  the metric's way (count, sum, max, unique, latest)
    invoice_total_reached         the highest total among the customer's DRAFT invoices
    low_credit_balance_reached    what is left of the customer's active credits
    low_remaining_commit_balance_reached   what is left of the customer's active commits
  The "reached" types are in alarm when value >= threshold, the "low" types when value <= threshold.
  A customer with nothing to watch (no period in progress, no credit or commit ever) is 'ok' with a
  null value. window_key names the episode: the billing period (spend, usage), the invoice
  (invoice total); a new window starts a new episode, so a threshold fires again each period.
-#}
-- depends_on: {{ ref('int_periods_to_rate') }}
with definitions as (

    select * from {{ ref('int_alert_definitions') }}

),

customers as (

    select customer_id from {{ ref('stg_customers') }}

),

spend as (

    select * from {{ ref('fct_customer_spend') }}

),

invoices as (

    select * from {{ ref('fct_invoices') }}

),

balances as (

    select * from {{ ref('fct_balances') }}

),

metered_events as (

    select * from {{ ref('int_metered_events') }}

),

current_periods as (

    {#- contracts of a customer do not overlap: at most one period in progress per customer -#}
    select
        customer_id,
        contract_id,
        min(period_starting_at) as period_starting_at,
        min(period_ending_before) as period_ending_before,
        sum(spend_to_date) as spend_to_date
    from spend
    group by customer_id, contract_id

),

period_events as (

    select
        metered_events.customer_id,
        metered_events.billable_metric,
        metered_events.aggregation,
        metered_events.metric_value,
        metered_events.unique_value,
        metered_events.event_at,
        metered_events.transaction_id
    from metered_events
    inner join current_periods
        on metered_events.contract_id = current_periods.contract_id
    where
        metered_events.event_at >= current_periods.period_starting_at
        and metered_events.event_at < current_periods.period_ending_before
        -- a literal lower bound (the earliest period being rated), so that engines can prune
        and metered_events.event_at >= {{ billing.rating_window_start() }}
        and metered_events.billable_metric in (
            select definitions.billable_metric from definitions
            where definitions.alert_type = 'usage_threshold_reached'
        )

),

period_usage as (

    {{ billing.aggregate_metric_events('period_events', ['customer_id', 'billable_metric']) }}

),

draft_invoice_totals as (

    select
        customer_id,
        invoice_id,
        total,
        row_number() over (partition by customer_id order by total desc, invoice_id asc) as total_rank
    from invoices
    where status = 'DRAFT'

),

balance_totals as (

    select
        customer_id,
        alert_type,
        sum(case when status = 'ACTIVE' then remaining_amount else 0 end) as remaining_amount
    from (
        select
            balances.*,
            case
                when balances.balance_type = 'CREDIT' then 'low_credit_balance_reached'
                else 'low_remaining_commit_balance_reached'
            end as alert_type
        from balances
    ) as watched_balances
    group by customer_id, alert_type

),

covered as (

    select
        definitions.alert_id,
        definitions.alert_type,
        definitions.threshold,
        definitions.billable_metric,
        customers.customer_id
    from definitions
    inner join customers
        on definitions.customer_id is null or definitions.customer_id = customers.customer_id

),

valued as (

    select
        covered.*,
        case covered.alert_type
            when 'spend_threshold_reached' then current_periods.spend_to_date
            when 'usage_threshold_reached'
                then
                    case when current_periods.customer_id is not null then coalesce(period_usage.quantity, 0) end
            when 'invoice_total_reached' then draft_invoice_totals.total
            else balance_totals.remaining_amount
        end as current_value,
        case covered.alert_type
            when 'invoice_total_reached' then draft_invoice_totals.invoice_id
            when 'low_credit_balance_reached' then cast(null as {{ dbt.type_string() }})
            when 'low_remaining_commit_balance_reached' then cast(null as {{ dbt.type_string() }})
            else {{ dbt.concat(['current_periods.contract_id', "'/'",
                                billing.timestamp_key('current_periods.period_starting_at')]) }}
        end as window_key
    from covered
    left join current_periods
        on covered.customer_id = current_periods.customer_id
    left join period_usage
        on
            covered.customer_id = period_usage.customer_id
            and covered.billable_metric = period_usage.billable_metric
    left join draft_invoice_totals
        on
            covered.customer_id = draft_invoice_totals.customer_id
            and draft_invoice_totals.total_rank = 1
    left join balance_totals
        on
            covered.customer_id = balance_totals.customer_id
            and covered.alert_type = balance_totals.alert_type

),

final as (

    select
        alert_id,
        alert_type,
        customer_id,
        billable_metric,
        threshold,
        current_value,
        window_key,
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
