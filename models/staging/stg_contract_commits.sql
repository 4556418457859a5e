with source as (

    select * from {{ billing.catalog_relation('contract_commits') }}

),

timestamp_parts as (

    select
        *,
        {{ billing.timestamp_parts('access_starting_at') }} as access_starting_at_parts,
        {{ billing.timestamp_parts('access_ending_before') }} as access_ending_before_parts,
        {{ billing.timestamp_parts('invoice_at') }} as invoice_at_parts
    from source

),

final as (

    select
        trim(commit_id) as commit_id,
        trim(contract_id) as contract_id,
        upper(trim(type)) as commit_type,
        nullif(trim(product_id), '') as product_id,
        name,
        {{ billing.try_to_decimal('amount') }} as amount,
        {{ billing.utc_timestamp_from_parts('access_starting_at_parts') }} as access_starting_at,
        {{ billing.utc_timestamp_from_parts('access_ending_before_parts') }} as access_ending_before,
        {{ billing.utc_timestamp_from_parts('invoice_at_parts') }} as invoice_at,
        coalesce({{ billing.try_to_decimal('invoice_amount') }}, {{ billing.try_to_decimal('amount') }})
            as invoice_amount,
        {{ billing.list_or_null('applicable_product_ids') }} as applicable_product_ids,
        {{ billing.list_or_null('applicable_product_tags') }} as applicable_product_tags,
        {{ billing.try_to_integer('priority') }} as priority
    from timestamp_parts

)

select * from final
