{#-
  The landing table raw.usage_events (DATA_CONTRACT "Usage events"). Created when missing so that
  a plain `dbt build` works before anything was ingested. The three trailing columns are ours:
  where a row came from, and why the loader could not read it (NULL for a readable row).
  Its columns, types and storage hints are those the source declares (models/staging/raw/_raw__sources.yml,
  `data_type`, meta `duckdb_compression`), which `billing ingest` reads too (billing_cli/names.py): one list.
  When var billing_events_relation names another table (the user's own, DECISIONLOG D65), nothing is
  created: that table must exist, and a missing one fails the build here (the engine's error names it).
-#}
{% macro create_raw_usage_events() %}{{ return(adapter.dispatch('create_raw_usage_events', 'billing')()) }}{% endmacro %}

{% macro default__create_raw_usage_events() %}
{%- set configured = var('billing_events_relation', none) or {} -%}
{%- if (configured.get('schema') or 'raw') != 'raw' or (configured.get('identifier') or 'usage_events') != 'usage_events'
      or configured.get('database') -%}
    {#- no lookup here (it would open a transaction the other hooks then run in, never committed):
        reading the table fails the build when it does not exist, naming it -#}
    {{ return('select * from ' ~ source('raw', 'usage_events') ~ ' where 1 = 0') }}
{%- endif -%}
{%- set types = {'string': dbt.type_string(), 'timestamp': dbt.type_timestamp(), 'bigint': dbt.type_bigint()} -%}
{%- set columns = [] -%}
{%- for node in graph.get('sources', {}).values() if node.source_name == 'raw' and node.name == 'usage_events' -%}
    {%- for column in node.columns.values() -%}
        {%- do columns.append((column.name ~ ' ' ~ types[column.data_type] ~ ' ' ~ billing.column_compression(column.meta)) | trim) -%}
    {%- endfor -%}
{%- endfor -%}
{%- set create_table %}
create table if not exists raw.usage_events (
    {{ columns | join(',\n    ') }}
) {{ billing.table_format_clause() }}
{%- endset %}
{{ billing.run_statements(['create schema if not exists raw', create_table]) }}
{% endmacro %}

{#- For loaders: `dbt run-operation create_raw_usage_events_now` creates the landing table before a first build. -#}
{% macro create_raw_usage_events_now() %}
{%- do run_query(billing.create_raw_usage_events()) -%}
{% endmacro %}
