{#-
  How many drawdown passes int_balance_drawdown_passes needs: the highest drawdown_rank that has an
  eligible charge (one pass per rank; DECISIONLOG D27). Read from the warehouse when the model runs
  (dbt compiles each model just before running it, after its parents are built); 0 when the table
  does not exist yet (e.g. `dbt compile` on an empty warehouse).
-#}
{% macro balance_drawdown_pass_count(eligible_relation) -%}
    {%- if not execute -%}{{ return(1) }}{%- endif -%}
    {%- set existing = load_relation(eligible_relation) -%}
    {%- if existing is none -%}{{ return(0) }}{%- endif -%}
    {%- set result = run_query('select max(drawdown_rank) from ' ~ existing) -%}
    {%- set value = result.columns[0].values()[0] -%}
    {{ return(0 if value is none else value | int) }}
{%- endmacro %}
