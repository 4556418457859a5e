{#-
  A seed pre-hook (dbt_project.yml): the CSV's header must name exactly the contract's columns, in
  any order (DECISIONLOG D40). The contract's columns of each seed are the keys of its
  `+column_types` in dbt_project.yml, the one list of them (the tests read it there too). The hook
  reads the header as dbt's seed materialization does (the agate table's column names), so a
  misspelled, missing or extra column fails the seed, naming the file and the columns, before its
  table is touched and before anything downstream runs. A seed is recreated from the header whenever it
  is loaded (`+full_refresh: true`), so values load by name and staging needs no check of its own; on
  DuckDB it is loaded when its file or configuration changed (macros/materializations.sql, D86).
-#}
{% macro require_seed_header() -%}
{%- set expected = (model.config.column_types or {}).keys() | map('lower') | list if model.resource_type == 'seed' else [] -%}
{%- if execute and expected -%}
    {%- set header = load_agate_table().column_names | map('string') | map('lower') | list -%}
    {%- set missing = [] -%}
    {%- set unknown = [] -%}
    {%- for column in expected if column not in header -%}{%- do missing.append(column) -%}{%- endfor -%}
    {%- for column in header if column not in expected -%}{%- do unknown.append(column) -%}{%- endfor -%}
    {%- set problems = [] -%}
    {%- if missing -%}{%- do problems.append('missing column(s) ' ~ missing | join(', ')) -%}{%- endif -%}
    {%- if unknown -%}{%- do problems.append('unknown column(s) ' ~ unknown | join(', ')) -%}{%- endif -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error("seed=" ~ model.name ~ ".csv, problem=" ~ problems | join('; ')
            ~ " (the header must name exactly the columns DATA_CONTRACT.md lists, in any order; leave values empty when unused)") }}
    {%- endif -%}
{%- endif -%}
{%- endmacro %}
