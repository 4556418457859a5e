{#-
  Each usage line's quantity (DATA_CONTRACT semantics 5): the metered quantity
  (int_segment_quantities) converted by the product's quantity_conversion_operation, then rounded.
    MULTIPLY   metered_quantity x quantity_conversion_factor
    DIVIDE     metered_quantity / quantity_conversion_factor, exact to 10 places (half-up)
    (none)     metered_quantity
  Rounding to quantity_rounding_decimal_places (none: as converted) by quantity_rounding_method:
  ROUND_UP (ceiling), ROUND_DOWN (floor), ROUND_HALF_UP (half away from zero).
  is_convertible is false when the conversion cannot be carried exactly (DECISIONLOG D57): the
  product quantity x factor, or a divided quantity, is not below 10^17. It is checked before the
  conversion is computed; such a line has no quantity (usage_problem quantity_out_of_range).
-#}
with segment_quantities as (

    select * from {{ ref('int_segment_quantities') }}

),

segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

checked as (

    select
        segment_quantities.line_key,
        segment_quantities.segment_id,
        segment_quantities.presentation_group_values,
        segment_quantities.event_count,
        segment_quantities.metered_quantity,
        case products.quantity_conversion_operation
            when 'MULTIPLY' then {{ billing.product_fits(
                'segment_quantities.metered_quantity', 'products.quantity_conversion_factor'
            ) }}
            when 'DIVIDE' then {{ billing.product_fits('segment_quantities.metered_quantity', 1) }}
            else true
        end as is_convertible,
        products.quantity_conversion_operation,
        products.quantity_conversion_factor,
        products.quantity_rounding_decimal_places,
        products.quantity_rounding_method
    from segment_quantities
    inner join segments
        on segment_quantities.segment_id = segments.segment_id
    inner join products
        on segments.product_id = products.product_id

),

converted as (

    select
        checked.*,
        case
            when not is_convertible then null
            when quantity_conversion_operation = 'MULTIPLY'
                then cast({{ billing.multiply_exact('metered_quantity', 'quantity_conversion_factor') }} as {{ billing.type_decimal() }})
            when quantity_conversion_operation = 'DIVIDE'
                then {{ billing.divide_exact('metered_quantity', 'quantity_conversion_factor') }}
            else metered_quantity
        end as converted_quantity
    from checked

),

rounded as (

    select
        converted.*,
        {{ billing.round_quantity(
            'converted_quantity', 'quantity_rounding_decimal_places', 'quantity_rounding_method'
        ) }} as quantity
    from converted

),

final as (

    select
        line_key,
        segment_id,
        presentation_group_values,
        event_count,
        metered_quantity,
        is_convertible,
        converted_quantity,
        quantity
    from rounded

)

select * from final
