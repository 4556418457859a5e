{#-
  Usage lines (DATA_CONTRACT semantics 4 to 6): each entitled, rated segment's metered events
  aggregated by the product's billable metric (a SQL metric's value per segment comes from
  int_sql_metric_values), converted (MULTIPLY / DIVIDE by the factor), rounded
  (places, method), then priced by the segment's rate after overrides:
    FLAT      quantity x price
    PACKAGE   ceil(quantity / package_size) x price
    TIERED    each unit at the price of the tier it falls in (tiers restart each segment)
    VOLUME    every unit at the price of the tier the total reaches
  Events are priced by their pricing group's rate when it has one, else by the default rate; their
  presentation group values split lines. The amount is rounded half-up to cents. A segment with no
  events has no line.
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

event_group_values as (

    select * from {{ ref('int_event_group_values') }}

),

segment_events as (

    select
        coalesce(group_segments.segment_id, default_segments.segment_id) as segment_id,
        event_groups.presentation_group_values,
        metered_events.transaction_id,
        metered_events.event_at,
        metered_events.aggregation,
        metered_events.metric_value,
        metered_events.unique_value
    from metered_events
    inner join products
        on metered_events.billable_metric = products.billable_metric
        and metered_events.aggregation <> 'sql'
    left join event_group_values as event_groups
        on products.product_id = event_groups.product_id
        and metered_events.group_values = event_groups.source_values
    left join segments as default_segments
        on metered_events.contract_id = default_segments.contract_id
        and products.product_id = default_segments.product_id
        and default_segments.pricing_group_values is null
        and metered_events.event_at >= default_segments.segment_starting_at
        and metered_events.event_at < default_segments.segment_ending_before
    left join segments as group_segments
        on metered_events.contract_id = group_segments.contract_id
        and products.product_id = group_segments.product_id
        and group_segments.pricing_group_values = event_groups.pricing_group_values
        and metered_events.event_at >= group_segments.segment_starting_at
        and metered_events.event_at < group_segments.segment_ending_before
    where coalesce(group_segments.segment_id, default_segments.segment_id) is not null

),

structured_quantities as (

    {{ billing.aggregate_metric_events('segment_events', ['segment_id', 'presentation_group_values']) }}

),

sql_quantities as (

    select segment_id, cast(null as {{ dbt.type_string() }}) as presentation_group_values, quantity, event_count
    from {{ ref('int_sql_metric_values') }}

),

quantities as (

    select
        {{ dbt.hash(dbt.concat(["segment_id", "'|'", "coalesce(presentation_group_values, '')"])) }} as line_key,
        unioned.*
    from (
        select segment_id, presentation_group_values, quantity, event_count from structured_quantities
        union all
        select segment_id, presentation_group_values, quantity, event_count from sql_quantities
    ) as unioned

),

converted as (

    select
        quantities.line_key,
        quantities.segment_id,
        quantities.presentation_group_values,
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
        line_key,
        segment_id,
        presentation_group_values,
        event_count,
        {{ billing.round_quantity('converted_quantity', 'quantity_rounding_decimal_places', 'quantity_rounding_method') }} as quantity
    from converted

),

tiers as (

    select * from {{ ref('int_price_tiers') }}

),

tier_prices as (

    select
        rounded.line_key,
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
    group by rounded.line_key

),

priced as (

    select
        rounded.line_key,
        rounded.segment_id,
        rounded.presentation_group_values,
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
        on rounded.line_key = tier_prices.line_key

),

final as (

    select
        {{ dbt.hash(dbt.concat(["priced.line_key", "'|usage'"])) }} as line_item_id,
        segments.invoice_id,
        segments.contract_id,
        segments.customer_id,
        'usage' as line_type,
        segments.product_id,
        products.name,
        segments.segment_starting_at as starting_at,
        segments.segment_ending_before as ending_before,
        segments.pricing_group_values,
        priced.presentation_group_values,
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
