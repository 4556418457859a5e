{#-
  Each alert of alerts.yml evaluated for each customer it covers, as of billing_as_of (DECISIONLOG
  D34, D66 to D69). The value an alert watches, per type:
    spend_threshold_reached       spend of a billing period (charges before credits and commits: its
                                  USAGE invoice, the SCHEDULED invoices issued in it so far, and the
                                  late usage adjustments billed later for it)
    usage_threshold_reached       the billable metric over a billing period, aggregated the metric's
                                  way (count, sum, max, unique, latest)
    invoice_total_reached         the highest total among the customer's DRAFT invoices
    low_credit_balance_reached    what is left of the customer's ACTIVE credits (D67)
    low_remaining_commit_balance_reached   what is left of the customer's ACTIVE prepaid commits
                                  (a postpaid commit is a minimum spend, not a balance: D66)
  The "reached" types are in alarm when value >= threshold, the "low" types when value <= threshold.
  A customer with nothing to watch (no period in progress, no active credit or prepaid commit) is
  'ok' with a null value.
  Spend and usage alerts keep a state per billing period (D69): every period this build rates that
  has started (the open ones, and final ones with late usage: a first build over past months rates
  them all) is evaluated, one row per period, window_key naming it; is_current_window marks the
  period that holds as_of (or the one row of a customer without one), which fct_alerts shows.
  Other alerts have one row per customer (window_key: the invoice for invoice totals, else empty).
  currency is the contract's (money alerts), empty for usage alerts (metric units).
-#}
-- depends_on: {{ ref('int_periods_to_rate') }}
with definitions as (

    select * from {{ ref('int_alert_definitions') }}

),

customers as (

    select customer_id from {{ ref('stg_customers') }}

),

periods_to_rate as (

    select * from {{ ref('int_periods_to_rate') }}

),

invoices as (

    select * from {{ ref('fct_invoices') }}

),

period_invoices as (

    select * from {{ ref('int_period_invoices') }}

),

line_items as (

    select * from {{ ref('fct_invoice_line_items') }}

),

balances as (

    select * from {{ ref('fct_balances') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

rate_cards as (

    select * from {{ ref('stg_rate_cards') }}

),

metered_events as (

    select * from {{ ref('int_metered_events') }}

),

evaluated_periods as (

    {#- the billing periods this build rates that have started (D69) -#}
    select
        invoices.invoice_id,
        invoices.contract_id,
        invoices.customer_id,
        invoices.currency,
        invoices.period_starting_at,
        invoices.period_ending_before,
        {{ dbt.concat(['invoices.contract_id', "'/'", billing.timestamp_key('invoices.period_starting_at')]) }}
            as window_key,
        coalesce({{ billing.as_of() }} < invoices.period_ending_before, false) as is_current_window
    from invoices
    inner join periods_to_rate
        on invoices.invoice_id = periods_to_rate.invoice_id
    where
        invoices.invoice_type = 'USAGE'
        and invoices.period_starting_at <= {{ billing.as_of() }}

),

period_charges as (

    {#- the period's USAGE invoice and the SCHEDULED invoices issued in it up to as_of, without
        credits, commits and the late adjustments they carry for other periods -#}
    select
        evaluated_periods.invoice_id,
        line_items.amount
    from evaluated_periods
    inner join period_invoices
        on evaluated_periods.invoice_id = period_invoices.period_invoice_id
    inner join line_items
        on period_invoices.invoice_id = line_items.invoice_id
    where line_items.line_type not in ('applied_credit', 'applied_commit', 'late_usage_adjustment')

    union all

    -- late usage of the period, wherever it is billed
    select
        evaluated_periods.invoice_id,
        line_items.amount
    from evaluated_periods
    inner join line_items
        on evaluated_periods.invoice_id = line_items.adjusted_invoice_id
    where line_items.line_type = 'late_usage_adjustment'

),

period_spend as (

    select
        invoice_id,
        sum(amount) as spend
    from period_charges
    group by invoice_id

),

period_events as (

    select
        evaluated_periods.invoice_id,
        metered_events.billable_metric,
        metered_events.aggregation,
        metered_events.metric_value,
        metered_events.unique_value,
        metered_events.event_at,
        metered_events.transaction_id
    from metered_events
    inner join evaluated_periods
        on metered_events.contract_id = evaluated_periods.contract_id
    where
        metered_events.event_at >= evaluated_periods.period_starting_at
        and metered_events.event_at < evaluated_periods.period_ending_before
        -- a literal lower bound (the earliest period being rated), so that engines can prune
        and metered_events.event_at >= {{ billing.rating_window_start() }}
        and metered_events.billable_metric in (
            select definitions.billable_metric from definitions
            where definitions.alert_type = 'usage_threshold_reached'
        )

),

period_usage as (

    {{ billing.aggregate_metric_events('period_events', ['invoice_id', 'billable_metric']) }}

),

draft_invoice_totals as (

    select
        customer_id,
        invoice_id,
        currency,
        total,
        row_number() over (partition by customer_id order by total desc, invoice_id asc) as total_rank
    from invoices
    where status = 'DRAFT'

),

balance_totals as (

    {#- only balances a customer can draw from now: active credits and prepaid commits (D66, D67) -#}
    select
        balances.customer_id,
        case
            when balances.balance_type = 'CREDIT' then 'low_credit_balance_reached'
            else 'low_remaining_commit_balance_reached'
        end as alert_type,
        min(rate_cards.currency) as currency,
        sum(balances.remaining_amount) as remaining_amount
    from balances
    inner join contracts
        on balances.contract_id = contracts.contract_id
    inner join rate_cards
        on contracts.rate_card_id = rate_cards.rate_card_id
    where
        balances.status = 'ACTIVE'
        and balances.balance_type <> 'POSTPAID_COMMIT'
    group by
        balances.customer_id,
        case
            when balances.balance_type = 'CREDIT' then 'low_credit_balance_reached'
            else 'low_remaining_commit_balance_reached'
        end

),

covered as (

    select
        definitions.alert_id,
        definitions.alert_type,
        definitions.threshold,
        definitions.billable_metric,
        customers.customer_id,
        definitions.alert_type in ('spend_threshold_reached', 'usage_threshold_reached') as is_period_alert
    from definitions
    inner join customers
        on definitions.customer_id is null or definitions.customer_id = customers.customer_id

),

customer_current_windows as (

    select distinct customer_id
    from evaluated_periods
    where is_current_window

),

period_valued as (

    {#- spend and usage alerts: one row per rated period (D69) -#}
    select
        covered.alert_id,
        covered.alert_type,
        covered.customer_id,
        covered.billable_metric,
        covered.threshold,
        case when covered.alert_type = 'spend_threshold_reached' then evaluated_periods.currency end as currency,
        case covered.alert_type
            when 'spend_threshold_reached' then coalesce(period_spend.spend, 0)
            else coalesce(period_usage.quantity, 0)
        end as current_value,
        evaluated_periods.window_key,
        evaluated_periods.is_current_window
    from covered
    inner join evaluated_periods
        on covered.customer_id = evaluated_periods.customer_id
    left join period_spend
        on evaluated_periods.invoice_id = period_spend.invoice_id
    left join period_usage
        on
            evaluated_periods.invoice_id = period_usage.invoice_id
            and covered.billable_metric = period_usage.billable_metric
    where covered.is_period_alert

    union all

    -- ... and, for a customer without a period in progress, one row with nothing to watch
    select
        covered.alert_id,
        covered.alert_type,
        covered.customer_id,
        covered.billable_metric,
        covered.threshold,
        cast(null as {{ dbt.type_string() }}) as currency,
        cast(null as {{ billing.type_decimal() }}) as current_value,
        cast(null as {{ dbt.type_string() }}) as window_key,
        true as is_current_window
    from covered
    left join customer_current_windows
        on covered.customer_id = customer_current_windows.customer_id
    where
        covered.is_period_alert
        and customer_current_windows.customer_id is null

),

customer_valued as (

    {#- invoice total and balance alerts: one row per customer -#}
    select
        covered.alert_id,
        covered.alert_type,
        covered.customer_id,
        covered.billable_metric,
        covered.threshold,
        case covered.alert_type
            when 'invoice_total_reached' then draft_invoice_totals.currency
            else balance_totals.currency
        end as currency,
        case covered.alert_type
            when 'invoice_total_reached' then draft_invoice_totals.total
            else balance_totals.remaining_amount
        end as current_value,
        case
            when covered.alert_type = 'invoice_total_reached' then draft_invoice_totals.invoice_id
        end as window_key,
        true as is_current_window
    from covered
    left join draft_invoice_totals
        on
            covered.customer_id = draft_invoice_totals.customer_id
            and draft_invoice_totals.total_rank = 1
    left join balance_totals
        on
            covered.customer_id = balance_totals.customer_id
            and covered.alert_type = balance_totals.alert_type
    where not covered.is_period_alert

),

valued as (

    select * from period_valued
    union all
    select * from customer_valued

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
