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
            when subscription_overrides.overwrite_override_id is not null then subscription_overrides.overwrite_price
            when subscription_overrides.multiplier is not null
                then cast({{ billing.multiply_exact('service_periods.price', 'subscription_overrides.multiplier') }} as {{ billing.type_decimal() }})
            else service_periods.price
        end as unit_price,
        coalesce(subscription_overrides.is_entitled, service_periods.is_entitled) as is_billed
    from service_periods
    left join subscription_overrides
        on service_periods.service_period_id = subscription_overrides.service_period_id

),

advance as (

    select
        {{ dbt.hash(dbt.concat(["contract_id", "'|SCHEDULED|'", billing.timestamp_key('service_starting_at')])) }} as invoice_id,
        'SCHEDULED' as invoice_type,
        service_starting_at as issued_at,
        priced.*
    from priced
    where collection_schedule = 'ADVANCE'

),

arrears as (

    select
        periods.invoice_id,
        'USAGE' as invoice_type,
        periods.period_ending_before as issued_at,
        priced.*
    from priced
    inner join periods
        on priced.contract_id = periods.contract_id
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
        {{ dbt.hash(dbt.concat(["charges.invoice_id", "'|subscription|'", "charges.subscription_id", "'|'", billing.timestamp_key('charges.service_starting_at')])) }} as line_item_id,
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
        charges.unit_price,
        charges.service_fraction,
        {{ billing.round_money(billing.multiply_exact(
            'cast(' ~ billing.multiply_exact('charges.quantity', 'charges.unit_price') ~ ' as ' ~ billing.type_decimal() ~ ')',
            'charges.service_fraction')) }} as amount
    from charges
    inner join products
        on charges.product_id = products.product_id
    where charges.is_billed

)

select * from final
