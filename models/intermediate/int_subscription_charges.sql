{#-
  Subscription fees (DATA_CONTRACT semantics 6, 7 and 9): quantity x price x service_fraction per
  service period (int_subscription_service_periods), the price being the rate's in effect at the
  service start after that date's overrides (int_subscription_overrides): an OVERWRITE's price
  replaces it, else the lowest MULTIPLIER scales it (kept to 10 places, as for usage, D16), and an
  entitlement override decides whether it is billed. ADVANCE fees go on the SCHEDULED invoice at the
  service period's start; ARREARS fees on the USAGE invoice of the billing period in which the
  service period ends.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with service_periods as (

    select * from {{ ref('int_subscription_service_periods') }}

),

subscription_overrides as (

    select * from {{ ref('int_subscription_overrides') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

priced as (

    select
        service_periods.*,
        case
            when subscription_overrides.overwrite_override_id is not null
                then subscription_overrides.overwrite_price
            when subscription_overrides.multiplier is not null
                then {{ billing.cast_decimal(
                    billing.multiply_exact('service_periods.price', 'subscription_overrides.multiplier')
                ) }}
            else service_periods.price
        end as unit_price,
        coalesce(subscription_overrides.is_entitled, service_periods.is_entitled) as is_billed
    from service_periods
    left join subscription_overrides
        on service_periods.service_period_id = subscription_overrides.service_period_id

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

fees as (

    select
        charges.*,
        products.name,
        contract_currencies.currency,
        {{ billing.multiply_exact(
            billing.cast_decimal(billing.multiply_exact('charges.quantity', 'charges.unit_price')),
            'charges.service_fraction'
        ) }} as unrounded_amount
    from charges
    inner join products
        on charges.product_id = products.product_id
    inner join {{ ref('int_contract_currencies') }} as contract_currencies
        on charges.contract_id = contract_currencies.contract_id
    where charges.is_billed

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "invoice_id", "'|subscription|'", "subscription_id", "'|'",
            billing.timestamp_key('service_starting_at')
        ])) }} as line_item_id,
        invoice_id,
        invoice_type,
        issued_at,
        contract_id,
        customer_id,
        subscription_id,
        product_id,
        name,
        service_starting_at,
        service_ending_before,
        quantity,
        unit_price,
        service_fraction,
        {{ billing.round_money('unrounded_amount', 'currency') }} as amount
    from fees

)

select * from final
