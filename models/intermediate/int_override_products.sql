{#-
  Which products each contract override applies to: its product_id, and/or every product carrying
  all of its product_tags (DATA_CONTRACT semantics 7).
-#}
with overrides as (

    select * from {{ ref('stg_contract_overrides') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

product_tags as (

    select * from {{ ref('int_product_tags') }}

),

override_tags as (

    {{ billing.unnest_json_array('overrides', 'override_id', 'product_tags', 'tag') }}

),

override_tag_counts as (

    select
        override_id,
        count(distinct tag) as required_tags
    from override_tags
    group by override_id

),

tag_matches as (

    select
        override_tags.override_id,
        product_tags.product_id,
        count(distinct override_tags.tag) as matched_tags
    from override_tags
    inner join product_tags
        on override_tags.tag = product_tags.tag
    group by override_tags.override_id, product_tags.product_id

),

products_by_tags as (

    select
        tag_matches.override_id,
        tag_matches.product_id
    from tag_matches
    inner join override_tag_counts
        on tag_matches.override_id = override_tag_counts.override_id
    where tag_matches.matched_tags = override_tag_counts.required_tags

),

final as (

    select
        overrides.override_id,
        overrides.contract_id,
        products.product_id
    from overrides
    inner join products
        on overrides.product_id is null or overrides.product_id = products.product_id
    left join products_by_tags
        on
            overrides.override_id = products_by_tags.override_id
            and products.product_id = products_by_tags.product_id
    where
        (overrides.product_id is not null or overrides.product_tags is not null)
        and (overrides.product_tags is null or products_by_tags.product_id is not null)

)

select * from final
