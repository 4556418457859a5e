{#-
  Group keys: a product's pricing and presentation group keys must be group keys of its billable
  metric, and a SQL metric's group keys must be keys of each product it bills (D23).
-#}
with product_keys as (

    select * from {{ ref('int_product_group_keys') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

metrics as (

    select * from {{ ref('int_billable_metrics') }}

),

metric_keys as (

    {{ billing.unnest_json_array('metrics', 'billable_metric', 'group_keys', 'group_key') }}

),

keys_not_in_metric as (

    select
        'products.csv' as seed,
        product_keys.product_id as row_key,
        product_keys.key_role || ' key ' || product_keys.group_key || ' is not a group key of billable metric '
        || coalesce(products.billable_metric, '(none)') as problem
    from product_keys
    inner join products
        on product_keys.product_id = products.product_id
    left join metric_keys
        on
            products.billable_metric = metric_keys.billable_metric
            and product_keys.group_key = metric_keys.group_key
    where metric_keys.group_key is null

),

sql_keys_not_in_product as (

    {#- a SQL metric's row is one line's value, so it may group only by keys its products group by (D23) -#}
    select
        'products.csv' as seed,
        products.product_id as row_key,
        'billable metric ' || products.billable_metric || ' is a SQL metric grouped by ' || metric_keys.group_key
        || ', which is not in the pricing_group_key or presentation_group_key of product '
        || products.product_id as problem
    from products
    inner join metrics
        on
            products.billable_metric = metrics.billable_metric
            and metrics.aggregation = 'sql'
    inner join metric_keys
        on metrics.billable_metric = metric_keys.billable_metric
    left join product_keys
        on
            products.product_id = product_keys.product_id
            and metric_keys.group_key = product_keys.group_key
    where product_keys.group_key is null

),

final as (

    select * from keys_not_in_metric
    union all
    select * from sql_keys_not_in_product

)

select * from final
