{#-
  The products a balance with applicable lists applies to (DATA_CONTRACT semantics 8, DECISIONLOG
  D26): one row per (balance, product) for each product named in applicable_product_ids or carrying
  any of applicable_product_tags (macros/product_lists.sql). A balance without lists
  (applies_to_all_products in int_balances) has no rows here: it applies to every USAGE, COMPOSITE
  and SUBSCRIPTION product.
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

product_tags as (

    select * from {{ ref('int_product_tags') }}

),

final as (

    {{ billing.products_listed_by_id_or_tag(
        'balances', 'balance_id', 'applicable_product_ids', 'applicable_product_tags', 'product_tags'
    ) }}

)

select * from final
