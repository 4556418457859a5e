{#-
Generic test: a model's column rules, checked by one query (one test node per model, where dbt's
not_null, unique and accepted_values make one node per column and rule: those were a third of a
build's time, for a few milliseconds of SQL each). Every argument is optional:
  primary_key          a column or a list of columns: each never null, and together unique
  not_null             columns never null
  unique               columns whose non-null values are unique, each on its own
  unique_combination   columns whose values are unique together (nulls compare equal)
  accepted_values      {column: [values]}: the column's non-null values are among these
  tested_batch         true: only the rows loaded in the tested event batch (billing.tested_rows: the
                       last build's batch, everything after a first or full build), for an event-grain
                       model whose earlier rows a build does not rewrite, so that the test costs what
                       the new events do, not the history (DECISIONLOG D32, D90); row rules only
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
{% test column_rules(model, primary_key=none, not_null=none, unique=none, unique_combination=none, accepted_values=none, tested_batch=false) %}
{#- Row rules (not_null, accepted_values) are counted in one scan of the model; each unique rule is a
    grouping of its own columns. No CTE reads the model: one read twice would be kept whole for the
    second read, the whole event history on a first build (DECISIONLOG D82). -#}
{%- set key = [] if primary_key is none else ([primary_key] if primary_key is string else primary_key) -%}
{%- set row_checks = [] -%}
{%- for column in key + (not_null or []) -%}
    {%- do row_checks.append(("not_null(" ~ column ~ ")", column ~ " is null")) -%}
{%- endfor -%}
{%- for column, values in (accepted_values or {}).items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}{%- do literals.append(dbt.string_literal(value)) -%}{%- endfor -%}
    {%- do row_checks.append((
        "accepted_values(" ~ column ~ ")",
        column ~ " is not null and " ~ column ~ " not in (" ~ (literals | join(", ")) ~ ")"
    )) -%}
{%- endfor -%}
{%- set unique_sets = [] -%}
{%- if key -%}{%- do unique_sets.append((key, true)) -%}{%- endif -%}
{%- for column in unique or [] -%}{%- do unique_sets.append(([column], true)) -%}{%- endfor -%}
{%- if unique_combination -%}{%- do unique_sets.append((unique_combination, false)) -%}{%- endif -%}
{%- if not row_checks and not unique_sets -%}
    {{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": no rule given") }}
{%- endif %}
{%- if tested_batch and unique_sets -%}
    {{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": tested_batch checks row rules only (a unique rule needs every row)") }}
{%- endif %}
{%- set rows = "(" ~ billing.tested_rows(model) ~ ") as tested" if tested_batch else model -%}
{%- set results = [] -%}
{%- for name, condition in row_checks -%}
    {%- do results.append("select " ~ dbt.string_literal(name) ~ " as failed_check, row_checks.check_" ~ loop.index ~ " as failing_rows from row_checks") -%}
{%- endfor -%}
{%- for columns, skip_nulls in unique_sets -%}
    {%- set listed = columns | join(', ') -%}
    {%- set where = (" where " ~ (columns | join(" is not null and ")) ~ " is not null") if skip_nulls else "" -%}
    {%- do results.append(
        "select " ~ dbt.string_literal(("unique(" if skip_nulls else "unique_combination(") ~ listed ~ ")")
        ~ " as failed_check, count(*) as failing_rows from (select " ~ listed ~ " from " ~ model ~ where
        ~ " group by " ~ listed ~ " having count(*) > 1) as repeated"
    ) -%}
{%- endfor %}
with
{%- if row_checks %}
row_checks as (
    select
    {%- for name, condition in row_checks %}
        count(case when {{ condition }} then 1 end) as check_{{ loop.index }}{{ "," if not loop.last }}
    {%- endfor %}
    from {{ rows }}
),
{%- endif %}

results as (
    {%- for result in results %}
    {{ result }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from results
where failing_rows > 0
{% endtest %}
