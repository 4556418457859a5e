{#-
  Live spend (DECISIONLOG D33): for each contract's current billing period (the USAGE invoice whose
  period holds as_of), what each product has cost so far, a forecast to the period end at the
  current daily run rate, and the contract's remaining balances.

  spend_to_date counts the charge lines (everything but applied credits and commits) of the current
  USAGE invoice and of the SCHEDULED invoices issued in the period so far. Only usage and composite
  spend grows with time, so only it is extrapolated:
      forecast = spend_to_date + round(usage_spend_to_date x seconds left / seconds elapsed, 2)
  A contract with nothing billed yet in its period still has one row, with product_id null (lines
  without a product, such as commit true-ups, are grouped under product_id null with their name).
-#}
with invoices as (

    select * from {{ ref('fct_invoices') }}

),

line_items as (

    select * from {{ ref('fct_invoice_line_items') }}

),

period_invoices as (

    select * from {{ ref('int_period_invoices') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

balances as (

    select * from {{ ref('fct_balances') }}

),

current_periods as (

    select
        invoice_id,
        contract_id,
        customer_id,
        currency,
        period_starting_at,
        period_ending_before,
        {{ billing.as_of() }} as as_of,
        {{ dbt.datediff('period_starting_at', billing.as_of(), 'second') }}
            as seconds_elapsed,
        {{ dbt.datediff('period_starting_at', 'period_ending_before', 'second') }}
            as seconds_in_period
    from invoices
    where
        invoice_type = 'USAGE'
        and period_starting_at <= {{ billing.as_of() }}
        and {{ billing.as_of() }} < period_ending_before

),

current_period_invoices as (

    {#- the current USAGE invoice and the SCHEDULED invoices issued since its period started -#}
    select
        current_periods.contract_id,
        period_invoices.invoice_id
    from current_periods
    inner join period_invoices
        on current_periods.invoice_id = period_invoices.period_invoice_id

),

product_spend as (

    select
        current_period_invoices.contract_id,
        line_items.product_id,
        max(line_items.name) as line_name,
        sum(line_items.amount) as spend_to_date,
        sum(case when line_items.line_type in ('usage', 'composite') then line_items.amount else 0 end)
            as usage_spend_to_date
    from current_period_invoices
    inner join line_items
        on current_period_invoices.invoice_id = line_items.invoice_id
    where line_items.line_type not in ('applied_credit', 'applied_commit')
    group by current_period_invoices.contract_id, line_items.product_id

),

remaining_balances as (

    select
        contract_id,
        sum(case when balance_type = 'CREDIT' then remaining_amount else 0 end) as credit_balance_remaining,
        sum(case when balance_type <> 'CREDIT' then remaining_amount else 0 end) as commit_balance_remaining
    from balances
    where status = 'ACTIVE'
    group by contract_id

),

run_rates as (

    select
        current_periods.*,
        product_spend.product_id,
        product_spend.line_name,
        coalesce(product_spend.spend_to_date, 0) as spend_to_date,
        coalesce(product_spend.usage_spend_to_date, 0) as usage_spend_to_date,
        case
            when current_periods.seconds_elapsed > 0 and coalesce(product_spend.usage_spend_to_date, 0) > 0
                then {{ billing.divide_exact(
                    'product_spend.usage_spend_to_date * 86400', 'current_periods.seconds_elapsed') }}
            else 0
        end as unrounded_daily_run_rate,
        case
            when current_periods.seconds_elapsed > 0 and coalesce(product_spend.usage_spend_to_date, 0) > 0
                then {{ billing.divide_exact(
                    'product_spend.usage_spend_to_date'
                    ~ ' * (current_periods.seconds_in_period - current_periods.seconds_elapsed)',
                    'current_periods.seconds_elapsed') }}
            else 0
        end as unrounded_forecast_remaining_spend
    from current_periods
    left join product_spend
        on current_periods.contract_id = product_spend.contract_id

),

forecast as (

    {#- rounded half-up to the currency's minor unit (D20) -#}
    select
        run_rates.*,
        {{ billing.round_money('unrounded_daily_run_rate', 'currency') }} as daily_run_rate,
        {{ billing.round_money('unrounded_forecast_remaining_spend', 'currency') }} as forecast_remaining_spend
    from run_rates

),

final as (

    select
        forecast.customer_id,
        forecast.contract_id,
        forecast.invoice_id,
        forecast.currency,
        forecast.period_starting_at,
        forecast.period_ending_before,
        forecast.as_of,
        cast({{ billing.divide_exact('forecast.seconds_elapsed', 86400) }} as {{ billing.type_decimal() }})
            as days_elapsed,
        cast({{ billing.divide_exact('forecast.seconds_in_period', 86400) }} as {{ billing.type_decimal() }})
            as days_in_period,
        forecast.product_id,
        coalesce(products.name, forecast.line_name) as product_name,
        cast(forecast.spend_to_date as {{ billing.type_money() }}) as spend_to_date,
        cast(forecast.usage_spend_to_date as {{ billing.type_money() }}) as usage_spend_to_date,
        cast(forecast.daily_run_rate as {{ billing.type_money() }}) as daily_run_rate,
        cast(forecast.spend_to_date + forecast.forecast_remaining_spend as {{ billing.type_money() }})
            as forecast_period_spend,
        cast(coalesce(remaining_balances.credit_balance_remaining, 0) as {{ billing.type_money() }})
            as contract_credit_balance_remaining,
        cast(coalesce(remaining_balances.commit_balance_remaining, 0) as {{ billing.type_money() }})
            as contract_commit_balance_remaining
    from forecast
    left join products
        on forecast.product_id = products.product_id
    left join remaining_balances
        on forecast.contract_id = remaining_balances.contract_id

)

select * from final
