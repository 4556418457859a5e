with source as (

    select * from {{ billing.catalog_relation('contract_subscriptions') }}

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
        trim(subscription_id) as subscription_id,
        trim(contract_id) as contract_id,
        trim(product_id) as product_id,
        {{ billing.try_to_decimal('quantity') }} as quantity,
        {{ billing.utc_timestamp_from_parts('starting_at_parts') }} as starting_at,
        {{ billing.utc_timestamp_from_parts('ending_before_parts') }} as ending_before,
        coalesce(upper(nullif(trim(collection_schedule), '')), 'ADVANCE') as collection_schedule,
        coalesce({{ billing.to_boolean('is_prorated') }}, false) as is_prorated
    from timestamp_parts

)

select * from final
