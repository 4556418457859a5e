{#-
  Pricing group values: a rate's or override's pricing_group_values must be a JSON object giving a
  value for every pricing key of its product, and only a product with a pricing key may have them.
-#}
with product_keys as (

    select * from {{ ref('int_product_group_keys') }}

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

    select * from not_objects
    union all
    select * from missing_keys
    union all
    select * from ungrouped_products

)

select * from final
