{#-
  Billing periods per contract (DATA_CONTRACT semantics 3): by usage_statement_frequency, aligned to
  the first of the month (FIRST_OF_MONTH) or to the contract start (CONTRACT_START), clipped to the
  contract. Only periods that have started by as_of exist.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with contracts as (

    select * from {{ ref('stg_contracts') }}

),

period_numbers as (

    {{ dbt.generate_series(1200) }}

),

anchored as (

    select
        contract_id,
        customer_id,
        rate_card_id,
        starting_at as contract_starting_at,
        ending_before as contract_ending_before,
        net_payment_terms_days,
        {{ billing.frequency_months('usage_statement_frequency') }} as period_months,
        {{ billing.period_anchor_at('usage_statement_day', 'starting_at') }} as anchor_at,
        case
            when ending_before is null or ending_before > {{ billing.as_of() }} then {{ billing.as_of() }}
            else ending_before
        end as horizon_at
    from contracts

),

nominal_periods as (

    select
        anchored.*,
        period_numbers.generated_number as period_number,
        {{ billing.add_months('anchor_at', '(period_numbers.generated_number - 1) * anchored.period_months') }}
            as nominal_starting_at,
        {{ billing.add_months('anchor_at', 'period_numbers.generated_number * anchored.period_months') }}
            as nominal_ending_before
    from anchored
    inner join period_numbers
        on
            period_numbers.generated_number - 1
            <= {{ dbt.datediff('anchored.anchor_at', 'anchored.horizon_at', 'month') }}
            / anchored.period_months

),

clipped as (

    select
        contract_id,
        customer_id,
        rate_card_id,
        net_payment_terms_days,
        period_number,
        case
            when nominal_starting_at < contract_starting_at then contract_starting_at
            else nominal_starting_at
        end as period_starting_at,
        case
            when contract_ending_before is not null and contract_ending_before < nominal_ending_before
                then contract_ending_before
            else nominal_ending_before
        end as period_ending_before
    from nominal_periods

),

final as (

    select
        {{ dbt.hash(dbt.concat(["contract_id", "'|USAGE|'", billing.timestamp_key('period_starting_at')])) }}
            as invoice_id,
        contract_id,
        customer_id,
        rate_card_id,
        period_number,
        period_starting_at,
        period_ending_before,
        net_payment_terms_days,
        {{ billing.add_hours('period_ending_before', var('invoice_grace_period_hours')) }} as finalizes_at
    from clipped
    where
        period_starting_at < period_ending_before
        and period_starting_at <= {{ billing.as_of() }}

)

select * from final
