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

{#-
  DuckDB's `seed` materialization, which loads a CSV only when it changed (DECISIONLOG D86). dbt's
  reloads every seed on every build (`+full_refresh: true` here, D40): the header check and dbt's agate
  parse of the file in Python, then drop, create and COPY, about a tenth of a second per seed, on every
  build, for files that change a few times a month.

  A load ends by writing the file's fingerprint as the table's comment, in the load's transaction:
  md5 of the file's bytes as DuckDB reads them now (not dbt's parse-time checksum, which a process
  that builds twice keeps), with the seed's load configuration (column types, delimiter, quoting)
  and a version of this materialization. A build whose fingerprint equals the table's comment leaves
  the table as it is; any edit of the file or its configuration, `--full-refresh`, a table created
  by something else (no comment) or persisted docs (their comment is the description) load it as
  dbt does. Other adapters keep dbt's own seed materialization.
-#}
{% materialization seed, adapter='duckdb' %}
  {%- set identifier = model['alias'] -%}
  {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
  {%- set exists_as_table = (old_relation is not none and old_relation.is_table) -%}
  {%- set fingerprint = billing.seed_fingerprint() -%}
  {%- if exists_as_table and fingerprint is not none and not flags.FULL_REFRESH
        and billing.seed_fingerprint_matches(old_relation, fingerprint) -%}
    {%- do store_result('agate_table', response='OK') -%}
    {% call noop_statement('main', 'UNCHANGED', 'UNCHANGED', 0) -%}
      -- {{ old_relation }}: the CSV and its configuration are those of its last load
    {%- endcall %}
    {{ return({'relations': [this.incorporate(type='table')]}) }}
  {%- endif -%}

  {%- set full_refresh_mode = (should_full_refresh()) -%}
  {%- set exists_as_view = (old_relation is not none and old_relation.is_view) -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set agate_table = load_agate_table() -%}
  {%- do store_result('agate_table', response='OK', agate_table=agate_table) -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% if exists_as_view %}
    {{ exceptions.raise_compiler_error("Cannot seed to '{}', it is a view".format(old_relation.render())) }}
  {% elif exists_as_table %}
    {% set create_table_sql = reset_csv_table(model, full_refresh_mode, old_relation, agate_table) %}
  {% else %}
    {% set create_table_sql = create_csv_table(model, agate_table) %}
  {% endif %}

  {% set code = 'CREATE' if full_refresh_mode else 'INSERT' %}
  {% set rows_affected = (agate_table.rows | length) %}
  {% set sql = "" %}
  {% if rows_affected > 0 %}
    {% set sql = load_csv_rows(model, agate_table) %}
  {% endif %}

  {% call noop_statement('main', code ~ ' ' ~ rows_affected, code, rows_affected) %}
    {{ get_csv_sql(create_table_sql, sql) }};
  {% endcall %}

  {% set target_relation = this.incorporate(type='table') %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(old_relation, full_refresh_mode)) %}
  {% do persist_docs(target_relation, model) %}
  {% if full_refresh_mode or not exists_as_table %}
    {% do create_indexes(target_relation) %}
  {% endif %}
  {%- if fingerprint is not none and not config.persist_relation_docs() %}
    {% call statement('seed_fingerprint') -%}
      comment on table {{ target_relation }} is '{{ fingerprint }}'
    {%- endcall %}
  {%- endif %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- The seed's fingerprint: md5 of its file's bytes now and of its load configuration (None: no file). -#}
{% macro seed_fingerprint() -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set path = adapter.get_seed_file_path(model) -%}
  {%- set settings = {'version': 1, 'column_types': config.get('column_types'), 'delimiter': config.get('delimiter', ','),
                      'quote_columns': config.get('quote_columns'), 'fast': config.get('fast', true)} -%}
  {%- set found = run_query("select md5(content) from read_blob('" ~ path | replace("'", "''") ~ "')") -%}
  {%- if found.rows | length != 1 -%}{{ return(none) }}{%- endif -%}
  {{ return('billing seed ' ~ local_md5(found.rows[0][0] ~ tojson(settings))) }}
{%- endmacro %}

{% macro seed_fingerprint_matches(relation, fingerprint) -%}
  {%- set found = run_query(
      "select count(*) from duckdb_tables() where database_name = '" ~ relation.database ~ "' and schema_name = '"
      ~ relation.schema ~ "' and table_name = '" ~ relation.identifier ~ "' and comment = '" ~ fingerprint ~ "'") -%}
  {{ return(found.rows[0][0] > 0) }}
{%- endmacro %}
