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
  usage_problem marks a line that is not billed as it stands (int_usage_problems; its invoice is
  held as a DRAFT):
    quantity_out_of_range  the conversion's product (or a divided quantity) is not below 10^17
    negative_quantity      the metered quantity is below zero: priced 0.00 whatever the price model
    amount_out_of_range    a price product (quantity x price, a tier's, price x multiplier) is not
                           below 10^17: the line has no amount (DECISIONLOG D57, D58)
  No product is computed before its magnitude is checked (billing.product_fits), so one contract's
  quantities cannot stop the build for every other.
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

segment_events as (

    {{ billing.events_in_segments(
        'metered_events', 'products',
        "metered_events.billable_metric = products.billable_metric and metered_events.aggregation <> 'sql'",
        ['transaction_id', 'event_at', 'aggregation', 'metric_value', 'unique_value']
    ) }}

),

structured_quantities as (

    {{ billing.aggregate_metric_events('segment_events', ['segment_id', 'presentation_group_values']) }}

),

sql_quantities as (

    select segment_id, presentation_group_values, quantity, event_count
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

checked as (

    select
        quantities.line_key,
        quantities.presentation_group_values,
        quantities.event_count,
        quantities.quantity as metered_quantity,
        case products.quantity_conversion_operation
            when 'MULTIPLY' then {{ billing.product_fits('quantities.quantity', 'products.quantity_conversion_factor') }}
            when 'DIVIDE' then {{ billing.product_fits('quantities.quantity', 1) }}
            else true
        end as is_convertible,
        products.quantity_conversion_operation,
        products.quantity_conversion_factor,
        products.quantity_rounding_decimal_places,
        products.quantity_rounding_method,
        products.name,
        segments.segment_id,
        segments.invoice_id,
        segments.contract_id,
        segments.customer_id,
        segments.product_id,
        segments.period_starting_at,
        segments.period_ending_before,
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

converted as (

    select
        checked.*,
        case
            when not is_convertible then null
            when quantity_conversion_operation = 'MULTIPLY'
                then cast(metered_quantity * quantity_conversion_factor as {{ billing.type_decimal() }})
            when quantity_conversion_operation = 'DIVIDE'
                then {{ billing.divide_exact('metered_quantity', 'quantity_conversion_factor') }}
            else metered_quantity
        end as converted_quantity
    from checked

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

    {#- the tiers of lines that are priced (not negative, converted): each tier's width and price -#}
    select
        line_key,
        quantity,
        tier_index,
        tier_floor,
        tier_ceiling,
        is_price_carried,
        case when is_price_carried then cast(tier_price * price_multiplier as {{ billing.type_decimal() }}) end as tier_unit_price,
        case when quantity > tier_floor
            then case when tier_ceiling is null or quantity < tier_ceiling then quantity else tier_ceiling end - tier_floor
            else 0
        end as tier_quantity
    from (
        select
            rounded.line_key,
            rounded.quantity,
            rounded.price_multiplier,
            tiers.tier_index,
            tiers.tier_floor,
            tiers.tier_ceiling,
            tiers.tier_price,
            {{ billing.product_fits('tiers.tier_price', 'rounded.price_multiplier') }} as is_price_carried
        from rounded
        inner join tiers
            on rounded.price_source_id = tiers.price_source_id
        where rounded.rate_type in ('TIERED', 'VOLUME')
            and rounded.is_convertible
            and rounded.metered_quantity >= 0
    ) as line_tier_prices

),

tier_checks as (

    {#- a TIERED amount is carried when every tier price is and the sum of the tiers' products is -#}
    select
        line_key,
        min(case when is_price_carried then 1 else 0 end) = 1
            and coalesce(sum(abs(cast(tier_quantity as double)) * abs(cast(tier_unit_price as double)))
                < {{ billing.max_carried() }}, true) as is_tiered_carried
    from line_tiers
    group by line_key

),

tier_prices as (

    select
        line_tiers.line_key,
        tier_checks.is_tiered_carried,
        sum(case when tier_checks.is_tiered_carried then line_tiers.tier_quantity * line_tiers.tier_unit_price end)
            as tiered_amount,
        max(case
            when (line_tiers.quantity > line_tiers.tier_floor or line_tiers.tier_index = 1)
                and (line_tiers.tier_ceiling is null or line_tiers.quantity <= line_tiers.tier_ceiling)
                then line_tiers.tier_unit_price
        end) as volume_unit_price,
        min(case when line_tiers.is_price_carried then 1 else 0 end) = 1 as are_prices_carried
    from line_tiers
    inner join tier_checks
        on line_tiers.line_key = tier_checks.line_key
    group by line_tiers.line_key, tier_checks.is_tiered_carried

),

checked_lines as (

    select
        rounded.*,
        case rounded.rate_type
            when 'VOLUME' then tier_prices.volume_unit_price
            when 'TIERED' then null
            else rounded.unit_price
        end as line_unit_price,
        case
            when not rounded.is_convertible then 'quantity_out_of_range'
            when rounded.metered_quantity < 0 then 'negative_quantity'
            when rounded.rate_type = 'FLAT'
                and not {{ billing.product_fits('rounded.quantity', 'rounded.unit_price') }} then 'amount_out_of_range'
            when rounded.rate_type = 'PACKAGE' and not (
                {{ billing.product_fits('rounded.quantity', 1) }}
                and {{ billing.product_fits('rounded.package_size', 1) }}
                and {{ billing.product_fits('abs(cast(rounded.quantity as double)) / cast(rounded.package_size as double) + 1', 'rounded.unit_price') }}
            ) then 'amount_out_of_range'
            when rounded.rate_type = 'TIERED' and not tier_prices.is_tiered_carried then 'amount_out_of_range'
            when rounded.rate_type = 'VOLUME' and not (
                tier_prices.are_prices_carried
                and {{ billing.product_fits('rounded.quantity', 'tier_prices.volume_unit_price') }}
            ) then 'amount_out_of_range'
        end as usage_problem,
        tier_prices.tiered_amount
    from rounded
    left join tier_prices
        on rounded.line_key = tier_prices.line_key

),

priced as (

    select
        checked_lines.*,
        case
            when usage_problem = 'negative_quantity' then 0
            when usage_problem is not null then null
            {#- FLAT and VOLUME: one product, computed only for the lines that passed the check #}
            when rate_type in ('FLAT', 'VOLUME') then quantity * line_unit_price
            when rate_type = 'PACKAGE' then {{ billing.ceil_divide('quantity', 'package_size') }} * line_unit_price
            when rate_type = 'TIERED' then tiered_amount
        end as unrounded_amount
    from checked_lines

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
        rate_type,
        period_starting_at,
        period_ending_before,
        metered_quantity,
        usage_problem
    from priced

)

select * from final
