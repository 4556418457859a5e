{#-
  Canonical group values: for each product with group keys and each JSON object that can carry
  them (a metered event's group_values, a rate's or an override's pricing_group_values), the
  object reduced to the product's pricing keys and to its presentation keys, keys sorted:
  {"region":"eu","tier":"gold"}. Canonical texts compare equal when the values do.
-#}
with product_keys as (

    select * from {{ ref('int_product_group_keys') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

keyed_products as (

    select distinct product_id from product_keys

),

event_sets as (

    select distinct products.product_id, metered.group_values as source_values
    from {{ ref('int_metered_events') }} as metered
    inner join products
        on metered.billable_metric = products.billable_metric
    inner join keyed_products
        on products.product_id = keyed_products.product_id
    where metered.group_values is not null

),

rate_sets as (

    select distinct rates.product_id, rates.pricing_group_values as source_values
    from {{ ref('stg_rate_card_rates') }} as rates
    where rates.pricing_group_values is not null

),

override_sets as (

    select distinct override_products.product_id, overrides.pricing_group_values as source_values
    from {{ ref('stg_contract_overrides') }} as overrides
    inner join {{ ref('int_override_products') }} as override_products
        on overrides.override_id = override_products.override_id
    where overrides.pricing_group_values is not null

),

source_sets as (

    select * from event_sets
    union
    select * from rate_sets
    union
    select * from override_sets

),

key_values as (

    select
        source_sets.product_id,
        source_sets.source_values,
        product_keys.key_role,
        product_keys.group_key,
        {{ billing.json_get_dynamic('source_sets.source_values', 'product_keys.group_key') }} as group_value
    from source_sets
    inner join product_keys
        on source_sets.product_id = product_keys.product_id

),

canonical as (

    select
        product_id,
        source_values,
        key_role,
        '{' || {{ dbt.listagg(
            billing.json_quote('group_key') ~ " || ':' || coalesce(" ~ billing.json_quote('group_value') ~ ", 'null')",
            "','", 'order by group_key') }} || '}' as canonical_values
    from key_values
    group by product_id, source_values, key_role

),

final as (

    select
        source_sets.product_id,
        source_sets.source_values,
        pricing.canonical_values as pricing_group_values,
        presentation.canonical_values as presentation_group_values
    from source_sets
    left join canonical as pricing
        on source_sets.product_id = pricing.product_id
        and source_sets.source_values = pricing.source_values
        and pricing.key_role = 'pricing'
    left join canonical as presentation
        on source_sets.product_id = presentation.product_id
        and source_sets.source_values = presentation.source_values
        and presentation.key_role = 'presentation'

)

select * from final
