{#-
  DuckDB's `table` and `view` materializations in one statement each: `create or replace` inside the
  node's transaction, then COMMIT. dbt-duckdb's own (like dbt-core's default) creates `<name>__dbt_tmp`,
  renames the old relation to `<name>__dbt_backup`, renames the new one into place, commits and drops
  the backup: seven statements and a page of Jinja per node. A build of this project has about a hundred
  such nodes on small catalog data, so those steps were half of a model's time (README "How it is built").

  The same guarantees: the replace is atomic (a failed query leaves the old relation, the transaction
  rolls back), hooks run where dbt runs them, grants and persisted docs are applied. A relation of the
  other type under the same name (a view becoming a table) is dropped first, in the same transaction.
  Other adapters (Spark, Databricks) keep their own materializations: these are `adapter='duckdb'` only.
-#}

{% materialization table, adapter='duckdb' %}
  {{ return(billing.replace_relation('table')) }}
{% endmaterialization %}

{% materialization view, adapter='duckdb' %}
  {{ return(billing.replace_relation('view')) }}
{% endmaterialization %}

{% macro replace_relation(relation_type) %}
  {%- if model.language != 'sql' -%}
    {{ exceptions.raise_compiler_error(model.name ~ ": only SQL models are built (macros/materializations.sql)") }}
  {%- endif -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type=relation_type) -%}
  {%- set grant_config = config.get('grants') -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% if existing_relation is not none and existing_relation.type != relation_type %}
    {{ adapter.drop_relation(existing_relation) }}
  {% endif %}
  {% call statement('main') -%}
    create or replace {{ relation_type }} {{ target_relation }} as (
      {{ compiled_code }}
    )
  {%- endcall %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode=True)) %}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmacro %}
