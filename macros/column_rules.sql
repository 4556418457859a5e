{#-
Generic test: a model's column rules, checked by one query (one test node per model, where dbt's
not_null, unique and accepted_values make one node per column and rule: those were a third of a
build's time, for a few milliseconds of SQL each). Every argument is optional:
  primary_key          a column or a list of columns: each never null, and together unique
  not_null             columns never null
  unique               columns whose non-null values are unique, each on its own
  unique_combination   columns whose values are unique together (nulls compare equal)
  accepted_values      {column: [values]}: the column's non-null values are among these
Each rule counts as dbt's own test does (not_null: null rows; unique: repeated values; accepted_values:
rows with another value). The test returns one row per broken rule: failed_check (e.g.
`not_null(contract_id)`) and failing_rows.

    data_tests:
      - column_rules:
          arguments:
            primary_key: invoice_id
            not_null: [contract_id]
            accepted_values: {status: [DRAFT, FINALIZED]}
-#}
{% test column_rules(model, primary_key=none, not_null=none, unique=none, unique_combination=none, accepted_values=none) %}
{%- set key = [] if primary_key is none else ([primary_key] if primary_key is string else primary_key) -%}
{%- set checks = [] -%}
{%- for column in key + (not_null or []) -%}
    {%- do checks.append(("not_null(" ~ column ~ ")", "from checked where " ~ column ~ " is null")) -%}
{%- endfor -%}
{%- set unique_sets = [] -%}
{%- if key -%}{%- do unique_sets.append((key, true)) -%}{%- endif -%}
{%- for column in unique or [] -%}{%- do unique_sets.append(([column], true)) -%}{%- endfor -%}
{%- if unique_combination -%}{%- do unique_sets.append((unique_combination, false)) -%}{%- endif -%}
{%- for columns, skip_nulls in unique_sets -%}
    {%- set listed = columns | join(', ') -%}
    {%- set where = (" where " ~ (columns | join(" is not null and ")) ~ " is not null") if skip_nulls else "" -%}
    {%- do checks.append((
        ("unique(" if skip_nulls else "unique_combination(") ~ listed ~ ")",
        "from (select " ~ listed ~ " from checked" ~ where ~ " group by " ~ listed ~ " having count(*) > 1) as repeated"
    )) -%}
{%- endfor -%}
{%- for column, values in (accepted_values or {}).items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}{%- do literals.append(dbt.string_literal(value)) -%}{%- endfor -%}
    {%- do checks.append((
        "accepted_values(" ~ column ~ ")",
        "from checked where " ~ column ~ " is not null and " ~ column ~ " not in (" ~ (literals | join(", ")) ~ ")"
    )) -%}
{%- endfor -%}
{%- if not checks -%}
    {{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": no rule given") }}
{%- endif %}
with checked as (
    select * from {{ model }}
),

results as (
    {%- for name, source in checks %}
    select {{ dbt.string_literal(name) }} as failed_check, count(*) as failing_rows {{ source }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from results
where failing_rows > 0
{% endtest %}
