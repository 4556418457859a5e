{#-
  Usage lines (DATA_CONTRACT semantics 4 to 6): each entitled, rated segment's metered events
  aggregated by the product's billable metric (a SQL metric's value per segment comes from
  int_sql_metric_values), converted (MULTIPLY / DIVIDE by the factor), rounded
  (places, method), then priced by the segment's rate after overrides:
    FLAT      quantity x price
    PACKAGE   ceil(quantity / package_size) x price
    TIERED    each unit at the price of the tier it falls in (tiers restart each segment)
    VOLUME    every unit at the price of the tier the total reaches
  The amount is rounded half-up to cents. A segment with no events has no line.
-#}
with segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

metered_events as (

    select * from {{ ref('int_metered_events') }}

),

segment_events as (

    select
        segments.segment_id,
        metered_events.transaction_id,
        metered_events.event_at,
        metered_events.aggregation,
        metered_events.metric_value,
        metered_events.unique_value
    from metered_events
    inner join products
        on metered_events.billable_metric = products.billable_metric
        and metered_events.aggregation <> 'sql'
    inner join segments
        on metered_events.contract_id = segments.contract_id
        and products.product_id = segments.product_id
        and metered_events.event_at >= segments.segment_starting_at
        and metered_events.event_at < segments.segment_ending_before

),

structured_quantities as (

    {{ billing.aggregate_metric_events('segment_events', ['segment_id']) }}

),

sql_quantities as (

    select segment_id, quantity, event_count
    from {{ ref('int_sql_metric_values') }}

),

quantities as (

    select segment_id, quantity, event_count from structured_quantities
    union all
    select segment_id, quantity, event_count from sql_quantities

),

converted as (

    select
        quantities.segment_id,
        quantities.event_count,
        case products.quantity_conversion_operation
            when 'MULTIPLY' then cast(quantities.quantity * products.quantity_conversion_factor as {{ billing.type_decimal() }})
            when 'DIVIDE' then {{ billing.divide_exact('quantities.quantity', 'products.quantity_conversion_factor') }}
            else quantities.quantity
        end as converted_quantity,
        products.quantity_rounding_decimal_places,
        products.quantity_rounding_method
    from quantities
    inner join segments
        on quantities.segment_id = segments.segment_id
    inner join products
        on segments.product_id = products.product_id

),

rounded as (

    select
        segment_id,
        event_count,
        {{ billing.round_quantity('converted_quantity', 'quantity_rounding_decimal_places', 'quantity_rounding_method') }} as quantity
    from converted

),

tiers as (

    select * from {{ ref('int_price_tiers') }}

),

tier_prices as (

    select
        rounded.segment_id,
        sum(case
            when rounded.quantity > tiers.tier_floor then
                (case when tiers.tier_ceiling is null or rounded.quantity < tiers.tier_ceiling
                      then rounded.quantity else tiers.tier_ceiling end - tiers.tier_floor)
                * cast(tiers.tier_price * segments.price_multiplier as {{ billing.type_decimal() }})
            else 0
        end) as tiered_amount,
        max(case
            when (rounded.quantity > tiers.tier_floor or tiers.tier_index = 1)
                and (tiers.tier_ceiling is null or rounded.quantity <= tiers.tier_ceiling)
                then cast(tiers.tier_price * segments.price_multiplier as {{ billing.type_decimal() }})
        end) as volume_unit_price
    from rounded
    inner join segments
        on rounded.segment_id = segments.segment_id
    inner join tiers
        on segments.price_source_id = tiers.price_source_id
    where segments.rate_type in ('TIERED', 'VOLUME')
    group by rounded.segment_id

),

priced as (

    select
        rounded.segment_id,
        rounded.event_count,
        rounded.quantity,
        case segments.rate_type
            when 'VOLUME' then tier_prices.volume_unit_price
            when 'TIERED' then null
            else cast(segments.base_price * segments.price_multiplier as {{ billing.type_decimal() }})
        end as unit_price,
        case segments.rate_type
            when 'FLAT' then rounded.quantity * cast(segments.base_price * segments.price_multiplier as {{ billing.type_decimal() }})
            when 'PACKAGE' then {{ billing.ceil_divide('rounded.quantity', 'segments.package_size') }}
                * cast(segments.base_price * segments.price_multiplier as {{ billing.type_decimal() }})
            when 'TIERED' then tier_prices.tiered_amount
            when 'VOLUME' then rounded.quantity * tier_prices.volume_unit_price
        end as unrounded_amount
    from rounded
    inner join segments
        on rounded.segment_id = segments.segment_id
    left join tier_prices
        on rounded.segment_id = tier_prices.segment_id

),

final as (

    select
        {{ dbt.hash(dbt.concat(["segments.segment_id", "'|usage'"])) }} as line_item_id,
        segments.invoice_id,
        segments.contract_id,
        segments.customer_id,
        'usage' as line_type,
        segments.product_id,
        products.name,
        segments.segment_starting_at as starting_at,
        segments.segment_ending_before as ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        priced.quantity,
        priced.unit_price,
        {{ billing.round_money('priced.unrounded_amount') }} as amount,
        priced.event_count,
        segments.rate_type
    from priced
    inner join segments
        on priced.segment_id = segments.segment_id
    inner join products
        on segments.product_id = products.product_id
    where segments.is_entitled
        and segments.rate_id is not null

)

select * from final
