{#-
  Rate segments (DATA_CONTRACT semantics 4): each billing period of each usage or composite
  product on the contract's rate card, split wherever a rate or an applicable override starts or ends inside it.
  Each segment carries the rate in effect at its start and whether the product is entitled then
  (the rate's `entitled`, toggled by the highest-priority entitlement override in effect), and the
  price after overrides (DATA_CONTRACT semantics 7): the OVERWRITE with the lowest priority number
  replaces the rate; otherwise the lowest applicable MULTIPLIER scales its price(s).
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

products as (

    select * from {{ ref('stg_products') }}
    where product_type in ('USAGE', 'COMPOSITE')

),

rates as (

    select * from {{ ref('stg_rate_card_rates') }}

),

overrides as (

    select * from {{ ref('stg_contract_overrides') }}

),

override_products as (

    select * from {{ ref('int_override_products') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

contract_products as (

    select distinct
        contracts.contract_id,
        rates.rate_card_id,
        rates.product_id
    from contracts
    inner join rates
        on contracts.rate_card_id = rates.rate_card_id
    inner join products
        on rates.product_id = products.product_id

),

change_points as (

    select contract_products.contract_id, contract_products.product_id, rates.starting_at as changes_at
    from contract_products
    inner join rates
        on contract_products.rate_card_id = rates.rate_card_id
        and contract_products.product_id = rates.product_id

    union

    select contract_products.contract_id, contract_products.product_id, rates.ending_before
    from contract_products
    inner join rates
        on contract_products.rate_card_id = rates.rate_card_id
        and contract_products.product_id = rates.product_id
    where rates.ending_before is not null

    union

    select override_products.contract_id, override_products.product_id, overrides.starting_at
    from override_products
    inner join overrides
        on override_products.override_id = overrides.override_id

    union

    select override_products.contract_id, override_products.product_id, overrides.ending_before
    from override_products
    inner join overrides
        on override_products.override_id = overrides.override_id
    where overrides.ending_before is not null

),

period_products as (

    select
        periods.invoice_id,
        periods.contract_id,
        periods.customer_id,
        periods.period_starting_at,
        periods.period_ending_before,
        contract_products.rate_card_id,
        contract_products.product_id
    from periods
    inner join contract_products
        on periods.contract_id = contract_products.contract_id

),

boundaries as (

    select invoice_id, product_id, period_starting_at as boundary_at
    from period_products

    union

    select period_products.invoice_id, period_products.product_id, change_points.changes_at
    from period_products
    inner join change_points
        on period_products.contract_id = change_points.contract_id
        and period_products.product_id = change_points.product_id
        and change_points.changes_at > period_products.period_starting_at
        and change_points.changes_at < period_products.period_ending_before

),

segments as (

    select
        period_products.*,
        boundaries.boundary_at as segment_starting_at,
        coalesce(
            lead(boundaries.boundary_at) over (
                partition by boundaries.invoice_id, boundaries.product_id order by boundaries.boundary_at
            ),
            period_products.period_ending_before
        ) as segment_ending_before
    from boundaries
    inner join period_products
        on boundaries.invoice_id = period_products.invoice_id
        and boundaries.product_id = period_products.product_id

),

segment_rates as (

    select
        segments.*,
        rates.rate_id,
        rates.rate_type,
        rates.price,
        rates.package_size,
        rates.is_entitled as is_rate_entitled
    from segments
    left join rates
        on segments.rate_card_id = rates.rate_card_id
        and segments.product_id = rates.product_id
        and rates.pricing_group_values is null
        and rates.starting_at <= segments.segment_starting_at
        and (rates.ending_before is null or segments.segment_starting_at < rates.ending_before)

),

entitlement_overrides as (

    select
        segments.invoice_id,
        segments.product_id,
        segments.segment_starting_at,
        overrides.is_entitled,
        row_number() over (
            partition by segments.invoice_id, segments.product_id, segments.segment_starting_at
            order by overrides.priority nulls last, overrides.starting_at desc, overrides.override_id
        ) as override_rank
    from segments
    inner join override_products
        on segments.contract_id = override_products.contract_id
        and segments.product_id = override_products.product_id
    inner join overrides
        on override_products.override_id = overrides.override_id
    where overrides.is_entitled is not null
        and overrides.starting_at <= segments.segment_starting_at
        and (overrides.ending_before is null or segments.segment_starting_at < overrides.ending_before)

),

price_overrides as (

    select
        segments.invoice_id,
        segments.product_id,
        segments.segment_starting_at,
        overrides.override_id,
        overrides.override_type,
        overrides.rate_type,
        overrides.price,
        overrides.tiers,
        overrides.multiplier,
        row_number() over (
            partition by segments.invoice_id, segments.product_id, segments.segment_starting_at, overrides.override_type
            order by overrides.priority nulls last, overrides.multiplier, overrides.override_id
        ) as override_rank
    from segments
    inner join override_products
        on segments.contract_id = override_products.contract_id
        and segments.product_id = override_products.product_id
    inner join overrides
        on override_products.override_id = overrides.override_id
    where overrides.override_type in ('OVERWRITE', 'MULTIPLIER')
        and overrides.starting_at <= segments.segment_starting_at
        and (overrides.ending_before is null or segments.segment_starting_at < overrides.ending_before)

),

overwrites as (

    select * from price_overrides
    where override_type = 'OVERWRITE' and override_rank = 1

),

multipliers as (

    select invoice_id, product_id, segment_starting_at, min(multiplier) as multiplier
    from price_overrides
    where override_type = 'MULTIPLIER'
    group by invoice_id, product_id, segment_starting_at

),

final as (

    select
        {{ dbt.hash(dbt.concat(["segment_rates.invoice_id", "'|'", "segment_rates.product_id", "'|'", billing.timestamp_key('segment_rates.segment_starting_at')])) }} as segment_id,
        segment_rates.invoice_id,
        segment_rates.contract_id,
        segment_rates.customer_id,
        segment_rates.product_id,
        segment_rates.period_starting_at,
        segment_rates.period_ending_before,
        segment_rates.segment_starting_at,
        segment_rates.segment_ending_before,
        segment_rates.rate_id,
        overwrites.override_id as overwrite_override_id,
        case when overwrites.override_id is not null
            then coalesce(overwrites.rate_type, segment_rates.rate_type)
            else segment_rates.rate_type end as rate_type,
        case when overwrites.override_id is not null
            then coalesce(overwrites.price, segment_rates.price)
            else segment_rates.price end as base_price,
        case when overwrites.override_id is not null then cast(1 as {{ billing.type_decimal() }})
            else coalesce(multipliers.multiplier, cast(1 as {{ billing.type_decimal() }})) end as price_multiplier,
        case when overwrites.tiers is not null then overwrites.override_id
            else segment_rates.rate_id end as price_source_id,
        segment_rates.package_size,
        coalesce(entitlement_overrides.is_entitled, segment_rates.is_rate_entitled, false) as is_entitled
    from segment_rates
    left join entitlement_overrides
        on segment_rates.invoice_id = entitlement_overrides.invoice_id
        and segment_rates.product_id = entitlement_overrides.product_id
        and segment_rates.segment_starting_at = entitlement_overrides.segment_starting_at
        and entitlement_overrides.override_rank = 1
    left join overwrites
        on segment_rates.invoice_id = overwrites.invoice_id
        and segment_rates.product_id = overwrites.product_id
        and segment_rates.segment_starting_at = overwrites.segment_starting_at
    left join multipliers
        on segment_rates.invoice_id = multipliers.invoice_id
        and segment_rates.product_id = multipliers.product_id
        and segment_rates.segment_starting_at = multipliers.segment_starting_at

)

select * from final
