{#-
  The products that a row's two JSON lists name, once per (row, product): those listed by id in
  `ids_column`, and those carrying any of the tags in `tags_column` (`product_tags`: the relation of
  int_product_tags, one row per product and tag). Composite products' components (composite_product_ids,
  composite_tags; DATA_CONTRACT semantics 6) and the products a balance applies to
  (applicable_product_ids, applicable_product_tags; semantics 8) follow this one rule.
  Columns: `key_column`, `product_alias`. For example
    billing.products_listed_by_id_or_tag('balances', 'balance_id', 'applicable_product_ids',
                                         'applicable_product_tags', 'product_tags')
-#}
{% macro products_listed_by_id_or_tag(relation, key_column, ids_column, tags_column, product_tags, product_alias='product_id') -%}
select distinct
    listed.{{ key_column }},
    listed.{{ product_alias }}
from (
    select
        listed_ids.{{ key_column }},
        listed_ids.{{ product_alias }}
    from ({{ billing.unnest_json_array(relation, key_column, ids_column, product_alias) }}) as listed_ids
    union all
    select
        listed_tags.{{ key_column }},
        {{ product_tags }}.product_id as {{ product_alias }}
    from ({{ billing.unnest_json_array(relation, key_column, tags_column, 'tag') }}) as listed_tags
    inner join {{ product_tags }}
        on listed_tags.tag = {{ product_tags }}.tag
) as listed
{%- endmacro %}
