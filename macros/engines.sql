{#-
  What differs between engines beyond SQL expressions (DECISIONLOG D36): how several statements
  run, which table format tables get, and whether the event models can be incremental.
-#}

{#-
  Several statements where dbt runs one (a hook, an incremental strategy's SQL). DuckDB takes them
  joined by semicolons; Spark and Databricks cursors run one statement per call, so there all but
  the last run now, in order, and the last is what dbt runs.
-#}
{% macro run_statements(statements) %}{{ return(adapter.dispatch('run_statements', 'billing')(statements)) }}{% endmacro %}
{% macro default__run_statements(statements) -%}
{{ statements | map('trim') | reject('equalto', '') | join(';\n') }}
{%- endmacro %}
{% macro spark__run_statements(statements) -%}
{%- set statements = statements | map('trim') | reject('equalto', '') | list -%}
{%- for statement in statements[:-1] -%}
    {%- do run_query(statement) -%}
{%- endfor -%}
{{ statements[-1] if statements else '' }}
{%- endmacro %}
{% macro databricks__run_statements(statements) %}{{ return(billing.spark__run_statements(statements)) }}{% endmacro %}

{#-
  Spark's table format: BILLING_SPARK_FILE_FORMAT, `delta` on a cluster with Delta Lake (Databricks
  always), `parquet` by default (local pyspark, whose Delta jars would come from Maven).
-#}
{% macro spark_file_format() -%}
{{ return(env_var('BILLING_SPARK_FILE_FORMAT', 'delta' if target.type == 'databricks' else 'parquet')) }}
{%- endmacro %}

{#- The clause that gives a table created by hand (not by a materialization) the project's format. -#}
{% macro table_format_clause() %}{{ return(adapter.dispatch('table_format_clause', 'billing')()) }}{% endmacro %}
{% macro default__table_format_clause() %}{% endmacro %}
{% macro spark__table_format_clause() %}using {{ billing.spark_file_format() }}{% endmacro %}
{% macro databricks__table_format_clause() %}{{ return(billing.spark__table_format_clause()) }}{% endmacro %}

{#-
  Whether the incremental event models (D32) can replace their batch in place: they delete the
  batch's rows and insert the recomputed ones. Spark tables only take DELETE in Delta format; on
  plain Parquet those models are rebuilt from every event on each build (same rows, more work).
-#}
{% macro incremental_events() %}{{ return(adapter.dispatch('incremental_events', 'billing')()) }}{% endmacro %}
{% macro default__incremental_events() %}{{ return(true) }}{% endmacro %}
{% macro spark__incremental_events() %}{{ return(billing.spark_file_format() == 'delta') }}{% endmacro %}
{% macro databricks__incremental_events() %}{{ return(billing.spark__incremental_events()) }}{% endmacro %}

{#-
  Rows written in this order, so that a scan filtered by a range of it reads only the row groups
  that hold the range (DuckDB keeps per-row-group min/max: zone maps). The event tables are
  written in event-time order: rating (the periods being rated) and fct_usage_daily (the days of
  a batch) then read a slice of history rather than all of it. Spark tables are not ordered by the
  write (a global sort costs a shuffle); on Delta, `OPTIMIZE ... ZORDER BY (event_at)` does this.
  DECISIONLOG D39.
-#}
{% macro order_rows_by(columns) %}{{ return(adapter.dispatch('order_rows_by', 'billing')(columns)) }}{% endmacro %}
{% macro default__order_rows_by(columns) %}order by {{ columns | join(', ') }}{% endmacro %}
{% macro spark__order_rows_by(columns) %}{% endmacro %}
{% macro databricks__order_rows_by(columns) %}{{ return(billing.spark__order_rows_by(columns)) }}{% endmacro %}

{#-
  The hint that makes a CTE read more than once be computed where it is read, not stored first
  (DECISIONLOG D83): `with x as {{ billing.inline_cte() }} (...)`. DuckDB stores such a CTE whole
  before the query runs (10 M event rows: seconds, and memory), where reading it twice costs less:
  each reader takes only its columns and rows. Spark inlines CTEs itself and has no such syntax.
-#}
{% macro inline_cte() %}{{ return(adapter.dispatch('inline_cte', 'billing')()) }}{% endmacro %}
{% macro default__inline_cte() %}{% endmacro %}
{% macro duckdb__inline_cte() %}not materialized{% endmacro %}

{#-
  A compact key of a transaction_id (DECISIONLOG D85): a 64-bit hash, fixed width, that a build
  probes the history's ids with before comparing the few ids it finds exactly. Probing 100 M stored
  ids with a night's batch reads and hashes every stored string otherwise; the key is one integer
  column. Equal ids have equal keys; equal keys need not be equal ids, so a reader compares the ids
  of the rows the key found. Engines without a fast 64-bit hash take the id itself.
    {{ billing.transaction_key('transaction_id') }}  ->  hash(transaction_id)   (DuckDB)
-#}
{% macro transaction_key(column) %}{{ return(adapter.dispatch('transaction_key', 'billing')(column)) }}{% endmacro %}
{% macro default__transaction_key(column) %}{{ column }}{% endmacro %}
{% macro duckdb__transaction_key(column) %}hash({{ column }}){% endmacro %}
{% macro spark__transaction_key(column) %}xxhash64({{ column }}){% endmacro %}
{% macro databricks__transaction_key(column) %}{{ return(billing.spark__transaction_key(column)) }}{% endmacro %}
{% macro type_transaction_key() %}{{ return(adapter.dispatch('type_transaction_key', 'billing')()) }}{% endmacro %}
{% macro default__type_transaction_key() %}{{ return(dbt.type_string()) }}{% endmacro %}
{% macro duckdb__type_transaction_key() %}{{ return('ubigint') }}{% endmacro %}
{% macro spark__type_transaction_key() %}{{ return('bigint') }}{% endmacro %}
{% macro databricks__type_transaction_key() %}{{ return(billing.spark__type_transaction_key()) }}{% endmacro %}

{#-
  A column's storage hint in CREATE TABLE (DECISIONLOG D94), from the `duckdb_compression` meta a
  column declares (models/staging/raw/_raw__sources.yml). DuckDB's default for text, dictionary +
  FSST, costs a third of a Parquet ingest on the two columns that are unique per event
  (transaction_id, timestamp) and saves little there; other engines have no such clause.
    {{ billing.column_compression({'duckdb_compression': 'uncompressed'}) }}  ->  using compression uncompressed
-#}
{% macro column_compression(meta) %}{{ return(adapter.dispatch('column_compression', 'billing')(meta)) }}{% endmacro %}
{% macro default__column_compression(meta) %}{% endmacro %}
{% macro duckdb__column_compression(meta) -%}
{%- if meta.get('duckdb_compression') %}using compression {{ meta['duckdb_compression'] }}{% endif -%}
{%- endmacro %}

{#- The materialization of the incremental event models. -#}
{% macro event_model_materialization() -%}
{{ return('incremental' if billing.incremental_events() else 'table') }}
{%- endmacro %}

{#-
  dbt-spark knows the strategies append, merge, insert_overwrite and microbatch; the project's
  `event_batch` (delete the batch, insert it again; macros/event_batches.sql) is added here for
  Delta tables.
  These two macros replace dbt-spark's of the same name (the root project's win); the strategies the
  project uses besides event_batch (append) are delegated to dbt-spark's own helpers.
-#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy == 'event_batch' and file_format not in ['delta', 'iceberg', 'hudi'] -%}
        {{ exceptions.raise_compiler_error("incremental_strategy event_batch needs Delta tables (BILLING_SPARK_FILE_FORMAT=delta)") }}
    {%- elif raw_strategy == 'merge' and file_format not in ['delta', 'iceberg', 'hudi'] -%}
        {{ exceptions.raise_compiler_error("incremental_strategy merge needs Delta, Iceberg or Hudi tables") }}
    {%- elif raw_strategy not in ['event_batch', 'append', 'merge', 'insert_overwrite'] -%}
        {{ exceptions.raise_compiler_error("incremental_strategy " ~ raw_strategy ~ " is not one of event_batch, append, merge, insert_overwrite") }}
    {%- endif -%}
    {{ return(raw_strategy) }}
{% endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy == 'event_batch' -%}
{{ get_incremental_event_batch_sql({'target_relation': target, 'temp_relation': source,
                                    'dest_columns': adapter.get_columns_in_relation(target)}) }}
    {%- elif strategy == 'append' -%}
{{ get_insert_into_sql(source, target) }}
    {%- elif strategy == 'insert_overwrite' -%}
{{ get_insert_overwrite_sql(source, target, existing) }}
    {%- else -%}
{{ get_merge_sql(target, source, unique_key, dest_columns=none, incremental_predicates=incremental_predicates) }}
    {%- endif -%}
{% endmacro %}

{#-
  Seeds on Spark: dbt-spark's session cursor binds an empty CSV cell as the text 'None'. Every seed
  column is text (dbt_project.yml), so the rows are written as SQL literals: NULL, or the text
  quoted with Spark's escapes (billing.string_literal, macros/literals.sql).
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
insert into {{ this.render() }} values
{% for row in chunk -%}
({%- for value in row -%}
{%- if value is none -%}null{%- else -%}{{ billing.string_literal(value) }}{%- endif -%}
{%- if not loop.last %}, {% endif -%}
{%- endfor -%}){%- if not loop.last %},{% endif %}
{% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#-
  string_agg(expr, delimiter) ordered by `order_columns` (a list). dbt's listagg ignores the order
  on Spark, so there the values are sorted as structs (order columns first) before joining.
-#}
{% macro listagg_ordered(expr, delimiter, order_columns) %}{{ return(adapter.dispatch('listagg_ordered', 'billing')(expr, delimiter, order_columns)) }}{% endmacro %}
{% macro default__listagg_ordered(expr, delimiter, order_columns) -%}
{{ dbt.listagg(expr, delimiter, 'order by ' ~ order_columns | join(', ')) }}
{%- endmacro %}
{% macro spark__listagg_ordered(expr, delimiter, order_columns) -%}
array_join(transform(array_sort(collect_list(named_struct(
    {%- for column in order_columns %}'sort_{{ loop.index }}', {{ column }}, {% endfor %}'value', {{ expr }}))),
    sorted -> sorted.value), {{ delimiter }})
{%- endmacro %}
{% macro databricks__listagg_ordered(expr, delimiter, order_columns) %}{{ return(billing.spark__listagg_ordered(expr, delimiter, order_columns)) }}{% endmacro %}

{#-
  True when the whole text matches `pattern`, a regular expression in the subset RE2 (DuckDB) and
  Java (Spark) read alike: character classes, groups, alternation, ? * + {m,n}; no backslashes.
  The parsers of numbers and timestamps use it to accept the same texts on every engine, since
  their casts are lenient in different ways (DuckDB reads 1_000 and 2025/01/05, Spark reads
  fullwidth digits, 2025-01 and a bare time of day).
-#}
{% macro matches_pattern(expr, pattern) %}{{ return(adapter.dispatch('matches_pattern', 'billing')(expr, pattern)) }}{% endmacro %}
{% macro duckdb__matches_pattern(expr, pattern) -%}
regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}
{% macro default__matches_pattern(expr, pattern) -%}
({{ expr }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}
