{#-
  The landing table raw.usage_events (DATA_CONTRACT "Usage events"). Created when missing so that
  a plain `dbt build` works before anything was ingested. The three trailing columns are ours:
  where a row came from, and why the loader could not read it (NULL for a readable row).
-#}
{% macro create_raw_usage_events() %}{{ return(adapter.dispatch('create_raw_usage_events', 'billing')()) }}{% endmacro %}

{% macro default__create_raw_usage_events() %}
{%- set create_table %}
create table if not exists raw.usage_events (
    transaction_id {{ dbt.type_string() }},
    customer_id {{ dbt.type_string() }},
    event_type {{ dbt.type_string() }},
    timestamp {{ dbt.type_string() }},
    properties {{ dbt.type_string() }},
    loaded_at {{ dbt.type_timestamp() }},
    source_file {{ dbt.type_string() }},
    source_line {{ dbt.type_bigint() }},
    ingest_error {{ dbt.type_string() }}
) {{ billing.table_format_clause() }}
{%- endset %}
{{ billing.run_statements(['create schema if not exists raw', create_table]) }}
{% endmacro %}

{#- For loaders: `dbt run-operation create_raw_usage_events_now` creates the landing table before a first build. -#}
{% macro create_raw_usage_events_now() %}
{%- do run_query(billing.create_raw_usage_events()) -%}
{% endmacro %}
