{#- Text value of a top-level key of a JSON object (numbers as their text); NULL when absent or null. -#}
{% macro json_get(json_expr, key) %}{{ return(adapter.dispatch('json_get', 'billing')(json_expr, key)) }}{% endmacro %}
{% macro duckdb__json_get(json_expr, key) -%}
json_extract_string({{ json_expr }}, '$."{{ key }}"')
{%- endmacro %}
{% macro default__json_get(json_expr, key) -%}
get_json_object({{ json_expr }}, '$.{{ key }}')
{%- endmacro %}

{#- True when the text is a JSON object. -#}
{% macro json_is_object(expr) %}{{ return(adapter.dispatch('json_is_object', 'billing')(expr)) }}{% endmacro %}
{% macro duckdb__json_is_object(expr) -%}
(case when json_valid({{ expr }}) then json_type({{ expr }}) = 'OBJECT' else false end)
{%- endmacro %}
{% macro default__json_is_object(expr) -%}
coalesce(from_json({{ expr }}, 'map<string,string>') is not null and substr(ltrim({{ expr }}), 1, 1) = '{', false)
{%- endmacro %}

{#- True when the text is a JSON array of strings (or empty/NULL, meaning none). -#}
{% macro json_is_string_array(expr) %}{{ return(adapter.dispatch('json_is_string_array', 'billing')(expr)) }}{% endmacro %}
{% macro duckdb__json_is_string_array(expr) -%}
(case
    when {{ expr }} is null then true
    when not json_valid({{ expr }}) then false
    when json_type({{ expr }}) <> 'ARRAY' then false
    else list_has_all(['VARCHAR'], json_type({{ expr }}, '$[*]'))
end)
{%- endmacro %}
{% macro default__json_is_string_array(expr) -%}
({{ expr }} is null or from_json({{ expr }}, 'array<string>') is not null)
{%- endmacro %}

{#-
  One row per element of a JSON array of strings held in a column:
  select <key_column>, <element> as <element_alias> from <relation>.
-#}
{% macro unnest_json_array(relation, key_column, array_column, element_alias) %}{{ return(adapter.dispatch('unnest_json_array', 'billing')(relation, key_column, array_column, element_alias)) }}{% endmacro %}
{% macro duckdb__unnest_json_array(relation, key_column, array_column, element_alias) -%}
select {{ key_column }}, unnest(from_json({{ array_column }}, '["VARCHAR"]')) as {{ element_alias }}
from {{ relation }}
where {{ billing.json_is_string_array(array_column) }} and {{ array_column }} is not null
{%- endmacro %}
{% macro default__unnest_json_array(relation, key_column, array_column, element_alias) -%}
{#- the element is named only after the explode, so it may share a name with a column of the relation -#}
select unnest_source.{{ key_column }}, exploded.{{ element_alias }}
from (
    select {{ key_column }}, {{ array_column }} as unnest_array from {{ relation }} where {{ array_column }} is not null
) as unnest_source
lateral view explode(from_json(unnest_source.unnest_array, 'array<string>')) exploded as {{ element_alias }}
{%- endmacro %}

{#- A JSON object text from (key, expression) pairs; keys in the given order, NULL values kept as null. -#}
{% macro json_object(pairs) %}{{ return(adapter.dispatch('json_object', 'billing')(pairs)) }}{% endmacro %}
{% macro duckdb__json_object(pairs) -%}
cast(json_object({% for k, v in pairs %}{{ billing.string_literal(k) }}, {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}) as varchar)
{%- endmacro %}
{% macro default__json_object(pairs) -%}
{#- Spark's to_json drops NULL fields unless told not to -#}
to_json(named_struct({% for k, v in pairs %}{{ billing.string_literal(k) }}, {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}), map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- A JSON object of the named properties of a JSON object column, e.g. {"model": "gpt", "region": null}. -#}
{% macro json_properties_object(json_expr, keys) -%}
{%- set pairs = [] -%}
{%- for k in keys -%}{%- do pairs.append((k, billing.json_get(json_expr, k))) -%}{%- endfor -%}
{{ billing.json_object(pairs) }}
{%- endmacro %}

{#-
  Tiers of a price: one row per element of a JSON list of {"size": n, "price": p} held in
  `tiers_column`: select <key_column>, tier_index (1-based), tier_size, tier_price (texts).
-#}
{% macro unnest_tiers(relation, key_column, tiers_column) %}{{ return(adapter.dispatch('unnest_tiers', 'billing')(relation, key_column, tiers_column)) }}{% endmacro %}
{% macro duckdb__unnest_tiers(relation, key_column, tiers_column) -%}
select
    {{ key_column }},
    tier_index,
    tier.size as tier_size,
    tier.price as tier_price
from (
    select
        {{ key_column }},
        unnest(from_json({{ tiers_column }}, '[{"size": "VARCHAR", "price": "VARCHAR"}]')) as tier,
        generate_subscripts(from_json({{ tiers_column }}, '[{"size": "VARCHAR", "price": "VARCHAR"}]'), 1) as tier_index
    from {{ relation }}
    where {{ tiers_column }} is not null
        and (case when json_valid({{ tiers_column }}) then json_type({{ tiers_column }}) = 'ARRAY' else false end)
) as tiers
{%- endmacro %}
{% macro default__unnest_tiers(relation, key_column, tiers_column) -%}
select {{ key_column }}, pos + 1 as tier_index, tier.size as tier_size, tier.price as tier_price
from {{ relation }}
lateral view posexplode(from_json({{ tiers_column }}, 'array<struct<size:string,price:string>>')) exploded as pos, tier
where {{ tiers_column }} is not null
{%- endmacro %}

{#- True when the text is a JSON array (of anything). -#}
{% macro json_is_array(expr) %}{{ return(adapter.dispatch('json_is_array', 'billing')(expr)) }}{% endmacro %}
{% macro duckdb__json_is_array(expr) -%}
(case when json_valid({{ expr }}) then json_type({{ expr }}) = 'ARRAY' else false end)
{%- endmacro %}
{% macro default__json_is_array(expr) -%}
coalesce(substr(ltrim({{ expr }}), 1, 1) = '[' and from_json({{ expr }}, 'array<string>') is not null, false)
{%- endmacro %}

{#- A list column as text, with an empty list ([] or blank) meaning none (NULL). -#}
{% macro list_or_null(column) -%}
case when replace(trim({{ column }}), ' ', '') in ('', '[]') then null else trim({{ column }}) end
{%- endmacro %}

{#- A JSON object of columns by their names, e.g. json_columns_object(['region']) -> {"region": region}. -#}
{% macro json_columns_object(columns) -%}
{%- set pairs = [] -%}
{%- for c in columns -%}{%- do pairs.append((c, c)) -%}{%- endfor -%}
{{ billing.json_object(pairs) }}
{%- endmacro %}

{#- Text value of a top-level key given by an expression (a column), not a literal. -#}
{% macro json_get_dynamic(json_expr, key_expr) %}{{ return(adapter.dispatch('json_get_dynamic', 'billing')(json_expr, key_expr)) }}{% endmacro %}
{% macro duckdb__json_get_dynamic(json_expr, key_expr) -%}
json_extract_string({{ json_expr }}, '$."' || {{ key_expr }} || '"')
{%- endmacro %}
{% macro default__json_get_dynamic(json_expr, key_expr) -%}
get_json_object({{ json_expr }}, concat('$.', {{ key_expr }}))
{%- endmacro %}

{#- A text as a JSON string literal ("..." with escapes); NULL stays NULL. -#}
{% macro json_quote(expr) %}{{ return(adapter.dispatch('json_quote', 'billing')(expr)) }}{% endmacro %}
{% macro duckdb__json_quote(expr) -%}
cast(to_json(cast({{ expr }} as varchar)) as varchar)
{%- endmacro %}
{% macro default__json_quote(expr) -%}
{#- the JSON writer's escapes (quotes, backslashes, control characters), taken out of {"v":...} -#}
(case when {{ expr }} is not null then
    substr(to_json(named_struct('v', cast({{ expr }} as string))), 6,
           length(to_json(named_struct('v', cast({{ expr }} as string)))) - 6) end)
{%- endmacro %}
