{#- Canonical pricing groups of rates and overrides (see macro canonical_group_values). -#}
with rate_sets as (

    select distinct
        product_id,
        pricing_group_values as source_values
    from {{ ref('stg_rate_card_rates') }}
    where pricing_group_values is not null

),

override_sets as (

    select distinct
        override_products.product_id,
        overrides.pricing_group_values as source_values
    from {{ ref('stg_contract_overrides') }} as overrides
    inner join {{ ref('int_override_products') }} as override_products
        on overrides.override_id = override_products.override_id
    where overrides.pricing_group_values is not null

),

sources as (

    select * from rate_sets
    union
    select * from override_sets

),

final as (

    {{ billing.canonical_group_values('sources') }}

)

select * from final
