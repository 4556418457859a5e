{#-
  Segments with their rate (DATA_CONTRACT semantics 4 and 5): each billing period to rate
  (int_periods_to_rate) of each product on the contract's rate card, split at the product's rate
  change points inside it (int_rate_change_points). A segment has one row per rate in effect at its
  start: the default rate (no pricing_group) and one per pricing group that has its own rate
  (pricing_group: the canonical group values, int_catalog_group_values). A segment with no rate in
  effect keeps one row with a null rate_id. segment_id identifies (invoice, product, segment start,
  pricing group).
-#}
with periods as (

    select * from {{ ref('int_periods_to_rate') }}

),

change_points as (

    select * from {{ ref('int_rate_change_points') }}

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
        on
            stg_rates.product_id = rate_groups.product_id
            and stg_rates.pricing_group_values = rate_groups.source_values

),

contract_products as (

    select distinct
        contract_id,
        rate_card_id,
        product_id
    from change_points

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

    select
        invoice_id,
        product_id,
        period_starting_at as boundary_at
    from period_products

    union

    select
        period_products.invoice_id,
        period_products.product_id,
        change_points.changes_at
    from period_products
    inner join change_points
        on
            period_products.contract_id = change_points.contract_id
            and period_products.product_id = change_points.product_id
            and period_products.period_starting_at < change_points.changes_at
            and period_products.period_ending_before > change_points.changes_at

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
        on
            boundaries.invoice_id = period_products.invoice_id
            and boundaries.product_id = period_products.product_id

),

final as (

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
        on
            segments.rate_card_id = rates.rate_card_id
            and segments.product_id = rates.product_id
            and segments.segment_starting_at >= rates.starting_at
            and (rates.ending_before is null or segments.segment_starting_at < rates.ending_before)

)

select * from final
