{#-
  The forecast of each product's spend to the end of its contract's current period (DECISIONLOG D33):
  only usage spend grows with time, so only it is extrapolated at the daily run rate so far,
      daily_run_rate           = round(usage_spend_to_date x 86400 / seconds elapsed, 2)
      forecast_remaining_spend = round(usage_spend_to_date x seconds left / seconds elapsed, 2)
  each rounded half-up to the currency's minor unit (D20); 0 before any usage or time. A contract
  with nothing billed yet in its period has one row, with product_id null and nothing spent.
-#}
with current_periods as (

    select * from {{ ref('int_current_periods') }}

),

product_spend as (

    select * from {{ ref('int_current_period_spend') }}

),

run_rates as (

    select
        current_periods.customer_id,
        current_periods.contract_id,
        current_periods.invoice_id,
        current_periods.currency,
        current_periods.period_starting_at,
        current_periods.period_ending_before,
        current_periods.as_of,
        current_periods.seconds_elapsed,
        current_periods.seconds_in_period,
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

final as (

    select
        run_rates.*,
        {{ billing.round_money('unrounded_daily_run_rate', 'currency') }} as daily_run_rate,
        {{ billing.round_money('unrounded_forecast_remaining_spend', 'currency') }} as forecast_remaining_spend
    from run_rates

)

select * from final
