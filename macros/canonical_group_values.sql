{#-
  Canonical group values, the one rule for comparing groups: each (product_id, source_values)
  row of `sources` (a JSON object of group values) reduced to the product's pricing keys and to
  its presentation keys, keys sorted: {"region":"eu","tier":"gold"}. Returns product_id,
  source_values, pricing_group_values, presentation_group_values.
-#}
{% macro canonical_group_values(sources) -%}
select
    sources.product_id,
    sources.source_values,
    max(case when key_values.key_role = 'pricing' then key_values.canonical_values end) as pricing_group_values,
    max(case when key_values.key_role = 'presentation' then key_values.canonical_values end) as presentation_group_values
from {{ sources }} as sources
left join (
    select
        product_id,
        source_values,
        key_role,
        '{' || {{ billing.listagg_ordered(
            billing.json_quote('group_key') ~ " || ':' || coalesce(" ~ billing.json_quote('group_value') ~ ", 'null')",
            "','", ['group_key']) }} || '}' as canonical_values
    from (
        select
            sources.product_id,
            sources.source_values,
            product_keys.key_role,
            product_keys.group_key,
            case when {{ billing.json_is_object('sources.source_values') }} then
                {{ billing.json_get_dynamic('sources.source_values', 'product_keys.group_key') }}
            end as group_value
        from {{ sources }} as sources
        inner join {{ ref('int_product_group_keys') }} as product_keys
            on sources.product_id = product_keys.product_id
    ) as per_key
    group by product_id, source_values, key_role
) as key_values
    on sources.product_id = key_values.product_id
    and sources.source_values = key_values.source_values
group by sources.product_id, sources.source_values
{%- endmacro %}
