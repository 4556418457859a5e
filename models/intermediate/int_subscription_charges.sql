{#-
  Subscription fees (DATA_CONTRACT semantics 6 and 9): quantity x price per service period of the
  SUBSCRIPTION rate's billing_frequency, aligned like billing periods (first of the month, or the
  contract start), clipped to the subscription and the contract; prorated by days in service /
  days in the service period when is_prorated. ADVANCE fees go on the SCHEDULED invoice at the
  service period's start (once as_of reaches it); ARREARS fees on the USAGE invoice of the billing
  period in which the service period ends. The price is the rate in effect at the service start.
-#}
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

products as (

    select * from {{ ref('stg_products') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

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

service_periods as (

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

priced as (

    select
        service_periods.*,
        rates.price,
        rates.is_entitled,
        case
            when service_periods.is_prorated then {{ billing.divide_exact(
                dbt.datediff('service_periods.service_starting_at', 'service_periods.service_ending_before', 'day'),
                dbt.datediff('service_periods.nominal_starting_at', 'service_periods.nominal_ending_before', 'day')) }}
            else cast(1 as {{ billing.type_decimal() }})
        end as service_fraction
    from service_periods
    inner join rates
        on
            service_periods.rate_card_id = rates.rate_card_id
            and service_periods.product_id = rates.product_id
            and service_periods.service_starting_at >= rates.starting_at
            and (rates.ending_before is null or service_periods.service_starting_at < rates.ending_before)
    where
        service_periods.service_starting_at < service_periods.service_ending_before
        and service_periods.service_starting_at <= {{ billing.as_of() }}

),

advance as (

    select
        {{ dbt.hash(dbt.concat([
            "priced.contract_id", "'|SCHEDULED|'", billing.timestamp_key('priced.service_starting_at')
        ])) }} as invoice_id,
        'SCHEDULED' as invoice_type,
        priced.service_starting_at as issued_at,
        priced.*
    from priced
    where priced.collection_schedule = 'ADVANCE'

),

arrears as (

    select
        periods.invoice_id,
        'USAGE' as invoice_type,
        periods.period_ending_before as issued_at,
        priced.*
    from priced
    inner join periods
        on
            priced.contract_id = periods.contract_id
            and priced.service_ending_before > periods.period_starting_at
            and priced.service_ending_before <= periods.period_ending_before
    where priced.collection_schedule = 'ARREARS'

),

charges as (

    select * from advance
    union all
    select * from arrears

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "charges.invoice_id", "'|subscription|'", "charges.subscription_id", "'|'",
            billing.timestamp_key('charges.service_starting_at')
        ])) }} as line_item_id,
        charges.invoice_id,
        charges.invoice_type,
        charges.issued_at,
        charges.contract_id,
        charges.customer_id,
        charges.subscription_id,
        charges.product_id,
        products.name,
        charges.service_starting_at,
        charges.service_ending_before,
        charges.quantity,
        charges.price as unit_price,
        charges.service_fraction,
        {{ billing.round_money(
            'cast(charges.quantity * charges.price as ' ~ billing.type_decimal() ~ ') * charges.service_fraction'
        ) }} as amount
    from charges
    inner join products
        on charges.product_id = products.product_id
    where charges.is_entitled

)

select * from final
