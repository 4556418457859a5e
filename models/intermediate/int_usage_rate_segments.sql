{#-
  Rate segments (DATA_CONTRACT semantics 4): each billing period of each usage or composite
  product on the contract's rate card, split wherever a rate or an applicable override starts or
  ends inside it. A segment has one row per rate in effect at its start: the default rate (no
  pricing_group_values) and one per pricing group that has its own rate (semantics 5). Each row
  carries whether the product is entitled (the rate's `entitled`, toggled by the highest-priority
  entitlement override in effect) and the price after overrides (semantics 7): the OVERWRITE with
  the lowest priority number replaces the rate; otherwise the lowest applicable MULTIPLIER scales
  its price(s). Overrides with pricing_group_values apply only to that group's row.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with periods as (

    {#- open periods and final ones with late usage (int_periods_to_rate) -#}
    select * from {{ ref('int_periods_to_rate') }}

),

products as (

    select * from {{ ref('stg_products') }}
    where product_type in ('USAGE', 'COMPOSITE')

),

catalog_group_values as (

    select * from {{ ref('int_catalog_group_values') }}

),

rates as (

    select
        stg_rates.*,
        rate_groups.pricing_group_values as pricing_group
    from {{ ref('stg_rate_card_rates') }} as stg_rates
    left join catalog_group_values as rate_groups
        on stg_rates.product_id = rate_groups.product_id
        and stg_rates.pricing_group_values = rate_groups.source_values

),

overrides as (

    select * from {{ ref('stg_contract_overrides') }}

),

override_products as (

    select
        int_override_products.*,
        override_groups.pricing_group_values as pricing_group
    from {{ ref('int_override_products') }}
    inner join overrides
        on int_override_products.override_id = overrides.override_id
    left join catalog_group_values as override_groups
        on int_override_products.product_id = override_groups.product_id
        and overrides.pricing_group_values = override_groups.source_values

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
        {{ dbt.hash(dbt.concat(["segments.invoice_id", "'|'", "segments.product_id", "'|'",
                                billing.timestamp_key('segments.segment_starting_at'), "'|'",
                                "coalesce(rates.pricing_group, '')"])) }} as segment_id,
        segments.*,
        rates.pricing_group,
        rates.rate_id,
        rates.rate_type,
        rates.price,
        rates.package_size,
        rates.is_entitled as is_rate_entitled
    from segments
    left join rates
        on segments.rate_card_id = rates.rate_card_id
        and segments.product_id = rates.product_id
        and rates.starting_at <= segments.segment_starting_at
        and (rates.ending_before is null or segments.segment_starting_at < rates.ending_before)

),

applicable_overrides as (

    select
        segment_rates.segment_id,
        overrides.override_id,
        overrides.override_type,
        overrides.rate_type,
        overrides.price,
        overrides.tiers,
        overrides.multiplier,
        overrides.is_entitled,
        overrides.priority,
        overrides.starting_at
    from segment_rates
    inner join override_products
        on segment_rates.contract_id = override_products.contract_id
        and segment_rates.product_id = override_products.product_id
        and (override_products.pricing_group is null
            or override_products.pricing_group = segment_rates.pricing_group)
    inner join overrides
        on override_products.override_id = overrides.override_id
    where overrides.starting_at <= segment_rates.segment_starting_at
        and (overrides.ending_before is null or segment_rates.segment_starting_at < overrides.ending_before)

),

entitlement_overrides as (

    select
        segment_id,
        is_entitled,
        row_number() over (
            partition by segment_id
            order by priority nulls last, starting_at desc, override_id
        ) as override_rank
    from applicable_overrides
    where is_entitled is not null

),

overwrites as (

    select *
    from (
        select
            *,
            row_number() over (partition by segment_id order by priority nulls last, override_id) as override_rank
        from applicable_overrides
        where override_type = 'OVERWRITE'
    ) as ranked
    where override_rank = 1

),

multipliers as (

    select segment_id, min(multiplier) as multiplier
    from applicable_overrides
    where override_type = 'MULTIPLIER'
    group by segment_id

),

resolved as (

    select
        segment_rates.segment_id,
        segment_rates.invoice_id,
        segment_rates.contract_id,
        segment_rates.customer_id,
        segment_rates.product_id,
        segment_rates.pricing_group as pricing_group_values,
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
        on segment_rates.segment_id = entitlement_overrides.segment_id
        and entitlement_overrides.override_rank = 1
    left join overwrites
        on segment_rates.segment_id = overwrites.segment_id
    left join multipliers
        on segment_rates.segment_id = multipliers.segment_id

),

final as (

    select
        *,
        cast(base_price * price_multiplier as {{ billing.type_decimal() }}) as unit_price
    from resolved

)

select * from final
