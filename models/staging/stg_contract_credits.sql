with source as (

    select * from {{ billing.catalog_relation('contract_credits') }}

),

timestamp_parts as (

    select
        *,
        {{ billing.timestamp_parts('access_starting_at') }} as access_starting_at_parts,
        {{ billing.timestamp_parts('access_ending_before') }} as access_ending_before_parts
    from source

),

final as (

    select
        trim(credit_id) as credit_id,
        trim(contract_id) as contract_id,
        nullif(trim(product_id), '') as product_id,
        name,
        {{ billing.try_to_decimal('amount') }} as amount,
        {{ billing.utc_timestamp_from_parts('access_starting_at_parts') }} as access_starting_at,
        {{ billing.utc_timestamp_from_parts('access_ending_before_parts') }} as access_ending_before,
        {{ billing.list_or_null('applicable_product_ids') }} as applicable_product_ids,
        {{ billing.list_or_null('applicable_product_tags') }} as applicable_product_tags,
        {{ billing.try_to_integer('priority') }} as priority
    from timestamp_parts

)

select * from final
