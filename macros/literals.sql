{#-
  A text as a SQL string literal of the engine (DECISIONLOG D49). Text that comes from the user
  (billable_metrics.yml, alerts.yml) reaches generated SQL only through this macro, never quoted
  by the compiler. Standard SQL (DuckDB) doubles the quote and reads a backslash as itself. Spark
  reads a backslash as an escape (`\'` is a quote) and joins adjacent literals ('O''Reilly' is
  OReilly), so there the backslash is doubled and the quote escaped.
  The engine variants are named sql_string_literal: dbt's own string_literal dispatches in the
  root project first, and variants named default__string_literal here would replace dbt's.
-#}
{% macro string_literal(text) %}{{ return(adapter.dispatch('sql_string_literal', 'billing')(text)) }}{% endmacro %}
{% macro default__sql_string_literal(text) -%}
'{{ (text | string).replace("'", "''") }}'
{%- endmacro %}
{% macro spark__sql_string_literal(text) -%}
'{{ (text | string).replace('\\', '\\\\').replace("'", "\\'") }}'
{%- endmacro %}
{% macro databricks__sql_string_literal(text) %}{{ return(billing.spark__sql_string_literal(text)) }}{% endmacro %}
