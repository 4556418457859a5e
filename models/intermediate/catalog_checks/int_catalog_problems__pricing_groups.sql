{#-
  Pricing and presentation groups: a product's group keys must be group keys of its billable
  metric (and a SQL metric's group keys must be keys of each product it bills), and rate or
  override pricing_group_values must be a JSON object giving every pricing key.
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

rate_groups as (

    select
        'rate_card_rates.csv' as seed,
        rates.rate_card_id
        || '/'
        || rates.product_id
        || '/'
        || {{ billing.timestamp_key('rates.starting_at') }} as row_key,
        rates.product_id,
        rates.pricing_group_values
    from {{ ref('stg_rate_card_rates') }} as rates
    where rates.pricing_group_values is not null

),

override_groups as (

    select
        'contract_overrides.csv' as seed,
        overrides.override_id as row_key,
        override_products.product_id,
        overrides.pricing_group_values
    from {{ ref('stg_contract_overrides') }} as overrides
    inner join {{ ref('int_override_products') }} as override_products
        on overrides.override_id = override_products.override_id
    where overrides.pricing_group_values is not null

),

group_values as (

    select * from rate_groups
    union all
    select * from override_groups

),

not_objects as (

    select
        seed,
        row_key,
        'pricing_group_values is not a JSON object' as problem
    from group_values
    where not {{ billing.json_is_object('pricing_group_values') }}

),

missing_keys as (

    select
        group_values.seed,
        group_values.row_key,
        'pricing_group_values has no value for pricing key ' || product_keys.group_key
        || ' of product ' || group_values.product_id as problem
    from group_values
    inner join product_keys
        on
            group_values.product_id = product_keys.product_id
            and product_keys.key_role = 'pricing'
    where
        {{ billing.json_is_object('group_values.pricing_group_values') }}
        and {{ billing.json_get_dynamic('group_values.pricing_group_values', 'product_keys.group_key') }} is null

),

ungrouped_products as (

    select
        group_values.seed,
        group_values.row_key,
        'pricing_group_values is set but product ' || group_values.product_id || ' has no pricing_group_key' as problem
    from group_values
    {#- a row without a product is named by its own seed's check (product_id is not in products) #}
    where
        group_values.product_id is not null
        and group_values.product_id not in (
            select product_keys.product_id from product_keys
            where product_keys.key_role = 'pricing'
        )

),

final as (

    select * from keys_not_in_metric
    union all
    select * from sql_keys_not_in_product
    union all
    select * from not_objects
    union all
    select * from missing_keys
    union all
    select * from ungrouped_products

)

select * from final
