{#-
  The relation a catalog seed is read from: `ref(name)`, the seed, unless var billing_catalog_source
  lists `name` in its `tables`; then the table of that name in its schema (source billing_catalog,
  models/staging/billing_catalog/_billing_catalog__sources.yml), DECISIONLOG D65. Every read of a catalog seed goes through
  here (staging and the catalog checks), so the checks apply to tables as they do to seeds.
  The seed's header check (macros/seed_columns.sql) has its counterpart for a table: a table that is
  missing or lacks a contract column fails, naming the table and the columns. Extra columns are
  allowed (a table may hold more than billing needs).
-#}
{% macro catalog_relation(name) -%}
{%- set settings = var('billing_catalog_source', none) or {} -%}
{%- if name not in (settings.get('tables') or []) -%}
    {{- return(ref(name)) -}}
{%- endif -%}
{%- set relation = source('billing_catalog', name) -%}
{%- if execute -%}
    {%- do billing.require_catalog_columns(name, relation) -%}
{%- endif -%}
{{- return(relation) -}}
{%- endmacro %}

{% macro require_catalog_columns(name, relation) -%}
{%- set expected = billing.seed_column_names(name) -%}
{%- set found = load_relation(relation) -%}
{%- if found is none -%}
    {{ exceptions.raise_compiler_error("table=" ~ relation ~ ", problem=does not exist (var billing_catalog_source lists "
        ~ name ~ "; create the table or remove it from the list)") }}
{%- endif -%}
{%- set actual = adapter.get_columns_in_relation(found) | map(attribute='name') | map('lower') | list -%}
{%- set missing = [] -%}
{%- for column in expected if column not in actual -%}{%- do missing.append(column) -%}{%- endfor -%}
{%- if missing -%}
    {{ exceptions.raise_compiler_error("table=" ~ relation ~ ", problem=missing column(s) " ~ missing | join(', ')
        ~ " (a catalog table has the columns of seeds/" ~ name ~ ".csv, DATA_CONTRACT.md)") }}
{%- endif -%}
{%- endmacro %}

{#- The contract's columns of a catalog seed: the keys of its +column_types (dbt_project.yml). -#}
{% macro seed_column_names(name) -%}
{%- set columns = [] -%}
{%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.name == name -%}
    {%- for column in (node.config.column_types or {}).keys() -%}{%- do columns.append(column | lower) -%}{%- endfor -%}
{%- endfor -%}
{%- if not columns -%}
    {{ exceptions.raise_compiler_error("seeds/" ~ name ~ ".csv is missing: keep it (its header is the list of the columns "
        ~ "of table " ~ name ~ ") when var billing_catalog_source reads " ~ name ~ " from a table") }}
{%- endif -%}
{{- return(columns) -}}
{%- endmacro %}
