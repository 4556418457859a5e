{#- The keys a product prices by (pricing_group_key) and splits lines by (presentation_group_key). -#}
with products as (

    select * from {{ ref('stg_products') }}

),

pricing as (

    {{ billing.unnest_json_array('products', 'product_id', 'pricing_group_key', 'group_key') }}

),

presentation as (

    {{ billing.unnest_json_array('products', 'product_id', 'presentation_group_key', 'group_key') }}

),

final as (

    select distinct
        product_id,
        'pricing' as key_role,
        group_key
    from pricing
    union all
    select distinct
        product_id,
        'presentation' as key_role,
        group_key
    from presentation

)

select * from final
