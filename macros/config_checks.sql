{#-
  Catalog validation. A config check selects the rows of a seed that break a rule, as
  (seed, row_key, problem); `billing build` prints them when the check fails, so a bad catalog
  fails with a message naming the seed file, the row and the problem. `problem_sql`, when given, is
  a SQL expression of the row used instead of the literal `problem` (none then), to name the
  offending value.
-#}
{% macro config_problem(seed, key_expr, condition, problem, problem_sql=none) -%}
select
    {{ billing.string_literal(seed ~ '.csv') }} as seed,
    cast({{ key_expr }} as {{ dbt.type_string() }}) as row_key,
    {{ problem_sql if problem_sql else billing.string_literal(problem) }} as problem
from {{ billing.catalog_relation(seed) }}
where {{ condition }}
{%- endmacro %}

{#-
  The rows of a seed that break any of `rules`, a list of [condition, problem] pairs on one row of
  `relation` (default: the seed), as (seed, row_key, problem), in one scan: each row is paired with
  the rules' numbers and keeps the problem of every rule whose condition holds (as config_problem's
  where: a null condition is no problem). One select per seed instead of one per rule (Spark plans
  and scans each select of the union on its own: int_catalog_problems took 23 s there with one per
  rule, 19 s with this). A condition here reads only its row; a rule with a subquery (duplicate_key,
  unknown_reference) stays a config_problem (Spark takes no subquery in a select list).

    {{ billing.row_problems('products', 'product_id', [
        [billing.missing('product_id'), 'product_id is missing'],
        [billing.bad_enum('type', ['USAGE', 'FIXED'], required=true), 'type must be USAGE or FIXED'],
    ]) }}
-#}
{% macro row_problems(seed, key_expr, rules, relation=none) -%}
select
    {{ billing.string_literal(seed ~ '.csv') }} as seed,
    checked.row_key,
    checked.problem
from (
    select
        cast({{ key_expr }} as {{ dbt.type_string() }}) as row_key,
        case rule_numbers.rule_number
        {%- for condition, problem in rules %}
            when {{ loop.index }} then case when {{ condition }} then {{ billing.string_literal(problem) }} end
        {%- endfor %}
        end as problem
    from {{ relation if relation else billing.catalog_relation(seed) }}
    cross join (
        {%- for rule in rules %}
        select {{ loop.index }} as rule_number{% if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as rule_numbers
) as checked
where checked.problem is not null
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

{#-
  A reference to a key that the other seed does not have. A required one (not `optional`) that is
  missing is one too: `trim(null) not in (...)` is null, which would let an empty cell through.
-#}
{% macro unknown_reference(column, seed, key_column, optional=false) -%}
({% if optional %}{{ column }} is not null and trim({{ column }}) <> '' and {% else %}{{ column }} is null or {% endif -%}
 trim({{ column }}) not in (select trim({{ key_column }}) from {{ billing.catalog_relation(seed) }} where {{ key_column }} is not null))
{%- endmacro %}
