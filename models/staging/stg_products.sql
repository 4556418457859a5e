with source as (

    select * from {{ billing.catalog_relation('products') }}

),

final as (

    select
        trim(product_id) as product_id,
        name,
        upper(trim(type)) as product_type,
        nullif(trim(billable_metric), '') as billable_metric,
        {{ billing.list_or_null('tags') }} as tags,
        {{ billing.try_to_decimal('quantity_conversion_factor') }} as quantity_conversion_factor,
        upper(nullif(trim(quantity_conversion_operation), '')) as quantity_conversion_operation,
        {{ billing.try_to_integer('quantity_rounding_decimal_places') }} as quantity_rounding_decimal_places,
        upper(nullif(trim(quantity_rounding_method), '')) as quantity_rounding_method,
        {{ billing.list_or_null('pricing_group_key') }} as pricing_group_key,
        {{ billing.list_or_null('presentation_group_key') }} as presentation_group_key,
        {{ billing.list_or_null('composite_product_ids') }} as composite_product_ids,
        {{ billing.list_or_null('composite_tags') }} as composite_tags
    from source

)

select * from final
