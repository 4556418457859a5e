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
-- depends_on: {{ ref('int_periods_to_rate') }}
with segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

metered_events as (

    select * from {{ ref('int_metered_events') }}
    where event_at >= {{ billing.rating_window_start() }}

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
        quantities.presentation_group_values,
        quantities.event_count,
        case products.quantity_conversion_operation
            when 'MULTIPLY' then cast(quantities.quantity * products.quantity_conversion_factor as {{ billing.type_decimal() }})
            when 'DIVIDE' then {{ billing.divide_exact('quantities.quantity', 'products.quantity_conversion_factor') }}
            else quantities.quantity
        end as converted_quantity,
        products.quantity_rounding_decimal_places,
        products.quantity_rounding_method,
        products.name,
        segments.segment_id,
        segments.invoice_id,
        segments.contract_id,
        segments.customer_id,
        segments.product_id,
        segments.segment_starting_at,
        segments.segment_ending_before,
        segments.pricing_group_values,
        segments.rate_type,
        segments.unit_price,
        segments.price_multiplier,
        segments.price_source_id,
        segments.package_size
    from quantities
    inner join segments
        on quantities.segment_id = segments.segment_id
    inner join products
        on segments.product_id = products.product_id
    where segments.is_entitled
        and segments.rate_id is not null

),

rounded as (

    select
        converted.*,
        {{ billing.round_quantity('converted_quantity', 'quantity_rounding_decimal_places', 'quantity_rounding_method') }} as quantity
    from converted

),

tiers as (

    select * from {{ ref('int_price_tiers') }}

),

line_tiers as (

    select
        rounded.line_key,
        rounded.quantity,
        tiers.tier_index,
        tiers.tier_floor,
        tiers.tier_ceiling,
        cast(tiers.tier_price * rounded.price_multiplier as {{ billing.type_decimal() }}) as tier_unit_price
    from rounded
    inner join tiers
        on rounded.price_source_id = tiers.price_source_id
    where rounded.rate_type in ('TIERED', 'VOLUME')

),

tier_prices as (

    select
        line_key,
        sum(case
            when quantity > tier_floor then
                (case when tier_ceiling is null or quantity < tier_ceiling then quantity else tier_ceiling end
                    - tier_floor) * tier_unit_price
            else 0
        end) as tiered_amount,
        max(case
            when (quantity > tier_floor or tier_index = 1) and (tier_ceiling is null or quantity <= tier_ceiling)
                then tier_unit_price
        end) as volume_unit_price
    from line_tiers
    group by line_key

),

priced as (

    select
        rounded.*,
        case rounded.rate_type
            when 'VOLUME' then tier_prices.volume_unit_price
            when 'TIERED' then null
            else rounded.unit_price
        end as line_unit_price,
        case rounded.rate_type
            when 'FLAT' then rounded.quantity * rounded.unit_price
            when 'PACKAGE' then {{ billing.ceil_divide('rounded.quantity', 'rounded.package_size') }} * rounded.unit_price
            when 'TIERED' then tier_prices.tiered_amount
            when 'VOLUME' then rounded.quantity * tier_prices.volume_unit_price
        end as unrounded_amount
    from rounded
    left join tier_prices
        on rounded.line_key = tier_prices.line_key

),

final as (

    select
        {{ dbt.hash(dbt.concat(["line_key", "'|usage'"])) }} as line_item_id,
        invoice_id,
        contract_id,
        customer_id,
        'usage' as line_type,
        product_id,
        name,
        segment_starting_at as starting_at,
        segment_ending_before as ending_before,
        pricing_group_values,
        presentation_group_values,
        quantity,
        line_unit_price as unit_price,
        {{ billing.round_money('unrounded_amount') }} as amount,
        event_count,
        rate_type
    from priced

)

select * from final
