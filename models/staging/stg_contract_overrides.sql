with source as (

    select * from {{ billing.catalog_relation('contract_overrides') }}

),

timestamp_parts as (

    select
        *,
        {{ billing.timestamp_parts('starting_at') }} as starting_at_parts,
        {{ billing.timestamp_parts('ending_before') }} as ending_before_parts
    from source

),

final as (

    select
        trim(override_id) as override_id,
        trim(contract_id) as contract_id,
        {{ billing.utc_timestamp_from_parts('starting_at_parts') }} as starting_at,
        {{ billing.utc_timestamp_from_parts('ending_before_parts') }} as ending_before,
        nullif(trim(product_id), '') as product_id,
        {{ billing.list_or_null('product_tags') }} as product_tags,
        nullif(trim(pricing_group_values), '') as pricing_group_values,
        upper(nullif(trim(type), '')) as override_type,
        {{ billing.try_to_decimal('multiplier') }} as multiplier,
        upper(nullif(trim(rate_type), '')) as rate_type,
        {{ billing.try_to_decimal('price') }} as price,
        nullif(trim(tiers), '') as tiers,
        {{ billing.to_boolean('entitled') }} as is_entitled,
        {{ billing.try_to_integer('priority') }} as priority
    from timestamp_parts

)

select * from final
