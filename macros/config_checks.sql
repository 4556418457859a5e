{#-
  Catalog validation. A config check selects the rows of a seed that break a rule, as
  (seed, row_key, problem); `billing build` prints them when the check fails, so a bad catalog
  fails with a message naming the seed file, the row and the problem.
-#}
{% macro config_problem(seed, key_expr, condition, problem, relation=none) -%}
select
    {{ billing.string_literal(seed ~ '.csv') }} as seed,
    cast({{ key_expr }} as {{ dbt.type_string() }}) as row_key,
    {{ billing.string_literal(problem) }} as problem
from {{ relation if relation else billing.catalog_relation(seed) }}
where {{ condition }}
{%- endmacro %}

{#-
  Text that is present but does not parse as a timestamp. Reads `<column>_utc`: the condition's
  relation is a CTE made by `billing.select_utc_timestamps` (macros/timestamps.sql).
-#}
{% macro bad_timestamp(column) -%}
({{ column }} is not null and trim({{ column }}) <> '' and {{ column }}_utc is null)
{%- endmacro %}

{#- Text that is present but does not parse as a decimal (or, with non_negative, is below zero). -#}
{% macro bad_decimal(column, non_negative=true) -%}
({{ column }} is not null and trim({{ column }}) <> '' and (
    {{ billing.try_to_decimal(column) }} is null
    {%- if non_negative %} or {{ billing.try_to_decimal(column) }} < 0{% endif %}))
{%- endmacro %}

{% macro bad_boolean(column) -%}
({{ column }} is not null and trim({{ column }}) <> '' and {{ billing.to_boolean(column) }} is null)
{%- endmacro %}

{% macro bad_enum(column, values, required=false) -%}
({% if required %}{{ column }} is null or trim({{ column }}) = '' or {% endif -%}
({{ column }} is not null and trim({{ column }}) <> '' and upper(trim({{ column }})) not in ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})))
{%- endmacro %}

{% macro bad_string_list(column) -%}
({{ column }} is not null and trim({{ column }}) <> '' and not {{ billing.json_is_string_array(column) }})
{%- endmacro %}

{% macro missing_list(column) -%}
({{ column }} is null or replace(trim({{ column }}), ' ', '') in ('', '[]'))
{%- endmacro %}

{% macro missing(column) -%}
({{ column }} is null or trim({{ column }}) = '')
{%- endmacro %}

{#- Rows whose key repeats. -#}
{% macro duplicate_key(seed, key_column) -%}
{{ key_column }} in (select {{ key_column }} from {{ billing.catalog_relation(seed) }} group by {{ key_column }} having count(*) > 1)
{%- endmacro %}

{#- A reference to a key that the other seed does not have. -#}
{% macro unknown_reference(column, seed, key_column, optional=false) -%}
({% if optional %}{{ column }} is not null and trim({{ column }}) <> '' and {% endif -%}
 trim({{ column }}) not in (select trim({{ key_column }}) from {{ billing.catalog_relation(seed) }} where {{ key_column }} is not null))
{%- endmacro %}
