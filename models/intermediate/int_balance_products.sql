{#-
  The products a balance with applicable lists applies to (DATA_CONTRACT semantics 8, DECISIONLOG
  D26): one row per (balance, product) for each product named in applicable_product_ids or carrying
  any of applicable_product_tags. A balance without lists (applies_to_all_products in int_balances)
  has no rows here: it applies to every USAGE, COMPOSITE and SUBSCRIPTION product.
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

product_tags as (

    select * from {{ ref('int_product_tags') }}

),

listed_products as (

    {{ billing.unnest_json_array('balances', 'balance_id', 'applicable_product_ids', 'product_id') }}

),

listed_tags as (

    {{ billing.unnest_json_array('balances', 'balance_id', 'applicable_product_tags', 'tag') }}

),

tagged_products as (

    select
        listed_tags.balance_id,
        product_tags.product_id
    from listed_tags
    inner join product_tags
        on listed_tags.tag = product_tags.tag

),

final as (

    select distinct
        balance_id,
        product_id
    from (
        select
            balance_id,
            product_id
        from listed_products
        union all
        select
            balance_id,
            product_id
        from tagged_products
    ) as applicable

)

select * from final
