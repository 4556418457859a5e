{#-
  Live spend (DECISIONLOG D33): for each contract's current billing period (the USAGE invoice whose
  period holds as_of), what each product has cost so far, a forecast to the period end at the
  current daily run rate, and the contract's remaining ACTIVE credits and commits. The rules are the
  models of models/intermediate/spend/ (CTEs of this one, D78): int_current_periods,
  int_current_period_spend (spend so far) and int_spend_forecasts (the run rate and forecast, and
  the one row, product_id null, of a contract with nothing billed yet in its period).
-#}
with forecasts as (

    select * from {{ ref('int_spend_forecasts') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

balances as (

    select * from {{ ref('fct_balances') }}

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

final as (

    select
        forecasts.customer_id,
        forecasts.contract_id,
        forecasts.invoice_id,
        forecasts.currency,
        forecasts.period_starting_at,
        forecasts.period_ending_before,
        forecasts.as_of,
        cast({{ billing.divide_exact('forecasts.seconds_elapsed', 86400) }} as {{ billing.type_decimal() }})
            as days_elapsed,
        cast({{ billing.divide_exact('forecasts.seconds_in_period', 86400) }} as {{ billing.type_decimal() }})
            as days_in_period,
        forecasts.product_id,
        coalesce(products.name, forecasts.line_name) as product_name,
        cast(forecasts.spend_to_date as {{ billing.type_money() }}) as spend_to_date,
        cast(forecasts.usage_spend_to_date as {{ billing.type_money() }}) as usage_spend_to_date,
        cast(forecasts.daily_run_rate as {{ billing.type_money() }}) as daily_run_rate,
        cast(forecasts.spend_to_date + forecasts.forecast_remaining_spend as {{ billing.type_money() }})
            as forecast_period_spend,
        cast(coalesce(remaining_balances.credit_balance_remaining, 0) as {{ billing.type_money() }})
            as contract_credit_balance_remaining,
        cast(coalesce(remaining_balances.commit_balance_remaining, 0) as {{ billing.type_money() }})
            as contract_commit_balance_remaining
    from forecasts
    left join products
        on forecasts.product_id = products.product_id
    left join remaining_balances
        on forecasts.contract_id = remaining_balances.contract_id

)

select * from final
