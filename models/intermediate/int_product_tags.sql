with products as (

    select * from {{ ref('stg_products') }}

),

final as (

    {{ billing.unnest_json_array('products', 'product_id', 'tags', 'tag') }}

)

select * from final
