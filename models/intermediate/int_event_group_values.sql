{#- Canonical pricing and presentation groups of metered events' group values, per product billed by their metric. -#}
with products as (

    select * from {{ ref('stg_products') }}

),

keyed_products as (

    select distinct product_id from {{ ref('int_product_group_keys') }}

),

sources as (

    select distinct products.product_id, metered.group_values as source_values
    from {{ ref('int_metered_events') }} as metered
    inner join products
        on metered.billable_metric = products.billable_metric
    inner join keyed_products
        on products.product_id = keyed_products.product_id
    where metered.group_values is not null

),

final as (

    {{ billing.canonical_group_values('sources') }}

)

select * from final
