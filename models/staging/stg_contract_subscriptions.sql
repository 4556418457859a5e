with source as (

    select * from {{ ref('contract_subscriptions') }}

),

final as (

    select
        trim(subscription_id) as subscription_id,
        trim(contract_id) as contract_id,
        trim(product_id) as product_id,
        {{ billing.try_to_decimal('quantity') }} as quantity,
        {{ billing.parse_utc_timestamp('starting_at') }} as starting_at,
        {{ billing.parse_utc_timestamp('ending_before') }} as ending_before,
        coalesce(upper(nullif(trim(collection_schedule), '')), 'ADVANCE') as collection_schedule,
        coalesce({{ billing.to_boolean('is_prorated') }}, false) as is_prorated
    from source

)

select * from final
