with source as (

    select * from {{ billing.catalog_relation('customers') }}

),

final as (

    select
        trim(customer_id) as customer_id,
        name,
        {{ billing.list_or_null('ingest_aliases') }} as ingest_aliases,
        lower(nullif(trim(billing_provider), '')) as billing_provider,
        nullif(trim(billing_provider_customer_id), '') as billing_provider_customer_id
    from source

)

select * from final
