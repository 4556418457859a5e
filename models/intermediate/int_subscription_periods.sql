{#-
  The service periods of each subscription (DATA_CONTRACT semantics 6): one per period of the
  SUBSCRIPTION rate's billing_frequency (the rate in effect at the subscription's start, MONTHLY
  without one), aligned like billing periods (first of the month, or the contract start), clipped to
  the subscription and the contract, that has started by as_of; with its days in service and the
  days of its nominal (unclipped) period, for proration.
-#}
{{ config(materialized='ephemeral') }}
-- depends_on: {{ ref('int_catalog_problems') }}
with subscriptions as (

    select * from {{ ref('stg_contract_subscriptions') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

rates as (

    select * from {{ ref('stg_rate_card_rates') }}
    where rate_type = 'SUBSCRIPTION'

),

service_numbers as (

    {{ dbt.generate_series(1200) }}

),

anchored as (

    select
        subscriptions.*,
        contracts.customer_id,
        contracts.rate_card_id,
        case
            when contracts.starting_at > subscriptions.starting_at
                then contracts.starting_at
            else subscriptions.starting_at
        end as service_from,
        case
            when subscriptions.ending_before is null then contracts.ending_before
            when contracts.ending_before is null then subscriptions.ending_before
            when contracts.ending_before < subscriptions.ending_before then contracts.ending_before
            else subscriptions.ending_before
        end as service_until,
        {{ billing.period_anchor_at('contracts.usage_statement_day', 'contracts.starting_at') }} as anchor_at,
        {{ billing.frequency_months('coalesce(initial_rate.billing_frequency, \'MONTHLY\')') }} as service_months
    from subscriptions
    inner join contracts
        on subscriptions.contract_id = contracts.contract_id
    left join rates as initial_rate
        on
            contracts.rate_card_id = initial_rate.rate_card_id
            and subscriptions.product_id = initial_rate.product_id
            and subscriptions.starting_at >= initial_rate.starting_at
            and (initial_rate.ending_before is null or subscriptions.starting_at < initial_rate.ending_before)

),

nominal as (

    select
        anchored.*,
        {{ billing.add_months('anchor_at', '(service_numbers.generated_number - 1) * anchored.service_months') }}
            as nominal_starting_at,
        {{ billing.add_months('anchor_at', 'service_numbers.generated_number * anchored.service_months') }}
            as nominal_ending_before
    from anchored
    inner join service_numbers
        on
            service_numbers.generated_number - 1
            <= {{ dbt.datediff('anchored.anchor_at', billing.as_of(), 'month') }}
            / anchored.service_months

),

clipped_periods as (

    select
        *,
        case when nominal_starting_at < service_from then service_from else nominal_starting_at end
            as service_starting_at,
        case
            when service_until is not null and service_until < nominal_ending_before
                then service_until
            else nominal_ending_before
        end as service_ending_before
    from nominal
    where
        nominal_ending_before > service_from
        and (service_until is null or nominal_starting_at < service_until)

),

final as (

    {#- the days as columns: divide_exact repeats its operands on Spark (D59) -#}
    select
        subscription_id,
        contract_id,
        customer_id,
        rate_card_id,
        product_id,
        quantity,
        collection_schedule,
        is_prorated,
        service_starting_at,
        service_ending_before,
        {{ dbt.datediff('service_starting_at', 'service_ending_before', 'day') }}
            as days_in_service,
        {{ dbt.datediff('nominal_starting_at', 'nominal_ending_before', 'day') }}
            as days_in_period
    from clipped_periods
    where
        service_starting_at < service_ending_before
        and service_starting_at <= {{ billing.as_of() }}

)

select * from final
