{#-
  Incremental event processing (DECISIONLOG D32, D44).

  The per-event models (int_events_deduplicated, int_metric_events, fct_event_outcomes),
  int_usage_daily_partials, fct_usage_daily and fct_event_load_summary are incremental. Each build recomputes a *batch* of their rows and leaves the
  rest as it is:
    - rows loaded since the model last ran: batch_loaded_after < loaded_at <= batch_loaded_through
      (through: the newest loaded_at in raw.usage_events when the build started);
    - rows without a loaded_at, every build;
    - rows of customer keys (a customer_id or an ingest alias, as sent) whose attribution changed
      (int_event_batch_key_changes).
  Recomputing deletes the target's batch rows and inserts the recomputed ones (the `event_batch`
  strategy), so a batch applied twice does no harm.

  The decision is taken ONCE per build, by on-run-start (`plan_event_batches`), and written to the
  state table billing_build_plans (one row per event model and invocation, kept as the build's
  record). Models, their delete step and their post-hook read it through the source
  billing_state.build_plans as scalar subqueries: the compiled SQL is the same text every build and
  no model queries the warehouse while compiling. (DuckDB prunes row groups by such subqueries as by
  literals, as long as they stand in a conjunction: each batch is read as a union of disjoint branches.)

  Everything is recomputed (decision 'full') on --full-refresh, on a first build, when the model has
  no recorded state, when its code fingerprint changed (its SQL and every model it depends on, the
  bodies of the project macros they reach, the vars that shape events, the dbt version), and when raw
  rows appeared or disappeared at or below its recorded watermark (a back-dated load, a delete).
  A model whose upstream event model is not selected in this invocation does nothing ('skipped').

  Per model, what it last applied is kept in billing_event_batches (watermark, raw checksum, code
  version) and billing_event_batch_keys (the key states); the post-hook copies them from the plan
  in the same transaction as the model's rows.
-#}

{#- The incremental event models: their upstream event models and whether they follow key changes. -#}
{% macro event_batch_settings(model_name=none) %}
{%- set settings = {
    'int_events_deduplicated': {'upstream': [], 'keys': false},
    'int_metric_events': {'upstream': ['int_events_deduplicated'], 'keys': true},
    'fct_event_outcomes': {'upstream': ['int_events_deduplicated', 'int_metric_events'], 'keys': true},
    'int_usage_daily_partials': {'upstream': ['int_metric_events', 'int_events_deduplicated'], 'keys': true},
    'fct_usage_daily': {'upstream': ['int_usage_daily_partials'], 'keys': true},
    'fct_event_load_summary': {'upstream': ['fct_event_outcomes'], 'keys': true},
} -%}
{%- if model_name is none -%}{{ return(settings) }}{%- endif -%}
{%- if model_name not in settings -%}
    {{ exceptions.raise_compiler_error("event_batch: " ~ model_name ~ " is not an incremental event model") }}
{%- endif -%}
{{ return(settings[model_name]) }}
{% endmacro %}

{% macro event_batch_state_relation(kind='batches') -%}
{{ target.schema }}.{{ {'batches': 'billing_event_batches', 'keys': 'billing_event_batch_keys', 'plans': 'billing_build_plans'}[kind] }}
{%- endmacro %}

{% macro _timestamp_literal(value) -%}
cast('{{ value }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The bound that stands for "no bound": before every loaded_at. -#}
{% macro _min_timestamp() %}{{ return(billing._timestamp_literal('0001-01-01 00:00:00')) }}{% endmacro %}

{#- on-run-start: the state tables, then this build's plan. -#}
{% macro create_event_batch_state() %}{{ return(adapter.dispatch('create_event_batch_state', 'billing')()) }}{% endmacro %}

{% macro default__create_event_batch_state() %}
{%- set create_batches %}
create table if not exists {{ billing.event_batch_state_relation('batches') }} (
    model_name {{ dbt.type_string() }},
    code_version {{ dbt.type_string() }},
    watermark_loaded_at {{ dbt.type_timestamp() }},
    raw_rows_through_watermark {{ dbt.type_bigint() }},
    raw_rows_checksum {{ dbt.type_string() }},
    batch_loaded_after {{ dbt.type_timestamp() }},
    processed_at {{ dbt.type_timestamp() }}
) {{ billing.table_format_clause() }}
{%- endset %}
{%- set create_keys %}
create table if not exists {{ billing.event_batch_state_relation('keys') }} (
    model_name {{ dbt.type_string() }},
    attribution_key {{ dbt.type_string() }},
    customer_id {{ dbt.type_string() }},
    attribution_state {{ dbt.type_string() }}
) {{ billing.table_format_clause() }}
{%- endset %}
{%- set create_plans %}
create table if not exists {{ billing.event_batch_state_relation('plans') }} (
    invocation_id {{ dbt.type_string() }},
    model_name {{ dbt.type_string() }},
    planned_at {{ dbt.type_timestamp() }},
    decision {{ dbt.type_string() }},
    reason {{ dbt.type_string() }},
    batch_loaded_after {{ dbt.type_timestamp() }},
    batch_loaded_through {{ dbt.type_timestamp() }},
    delete_loaded_through {{ dbt.type_timestamp() }},
    watermark_loaded_at {{ dbt.type_timestamp() }},
    raw_rows_through_watermark {{ dbt.type_bigint() }},
    raw_rows_checksum {{ dbt.type_string() }},
    code_version {{ dbt.type_string() }}
) {{ billing.table_format_clause() }}
{%- endset %}
{{ billing.run_statements(['create schema if not exists ' ~ target.schema, create_batches, create_keys, create_plans]) }}
{% endmacro %}

{#-
  The code fingerprint of an event model: its SQL and that of every model it depends on (dbt's
  checksums), the bodies of the project macros they reach (followed through the macros they call;
  Jinja comments and blank space left out, so a comment or layout tidy-up recomputes nothing), the
  vars that shape events and the dbt version. Computed once per build, by the plan.
-#}
{% macro event_code_version(model_name) %}
{%- set parts = ['future_event_tolerance_hours=' ~ var('future_event_tolerance_hours'), 'dbt=' ~ dbt_version] -%}
{%- set queue = [] -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name and node.package_name == 'billing' -%}
    {%- do queue.append(node.unique_id) -%}
{%- endfor -%}
{%- if not queue -%}
    {{ exceptions.raise_compiler_error("event_batch: model " ~ model_name ~ " not found in the graph") }}
{%- endif -%}
{%- set seen = [] -%}
{%- set macros = [] -%}
{%- for node_id in queue -%}
    {%- if node_id not in seen and node_id in graph.nodes -%}
        {%- do seen.append(node_id) -%}
        {%- do macros.extend(graph.nodes[node_id].depends_on.macros) -%}
        {%- for parent in graph.nodes[node_id].depends_on.nodes if parent.startswith('model.') -%}
            {%- do queue.append(parent) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endfor -%}
{%- for node_id in seen | sort -%}
    {%- do parts.append(node_id ~ ':' ~ graph.nodes[node_id].checksum.checksum) -%}
{%- endfor -%}
{%- set bodies = {} -%}
{%- for macro_id in macros -%}
    {%- set name = macro_id.split('.')[-1] -%}
    {%- if macro_id.startswith('macro.billing.') and macro_id not in bodies and name in billing -%}
        {%- set macro = billing[name].macro -%}
        {%- do bodies.update({macro_id: modules.re.sub('\\s+', ' ', modules.re.sub('(?s){#.*?#}', '', macro.macro_sql)).strip()}) -%}
        {%- do macros.extend(macro.depends_on.macros) -%}
    {%- endif -%}
{%- endfor -%}
{%- for macro_id in bodies | sort -%}
    {%- do parts.append(macro_id ~ ':' ~ local_md5(bodies[macro_id])) -%}
{%- endfor -%}
{{ return(local_md5(parts | join('\n'))) }}
{% endmacro %}

{#- One checksum of the raw rows with a loaded_at at or below `watermark` and of those without one. -#}
{% macro raw_rows_checksum_at(watermark) -%}
{%- set through = 'loaded_at <= ' ~ (billing._timestamp_literal(watermark) if watermark is not none else billing._min_timestamp()) -%}
{{ dbt.concat([
    'cast(count(case when ' ~ through ~ ' then 1 end) as ' ~ dbt.type_string() ~ ')', "':'",
    'cast(coalesce(sum(case when ' ~ through ~ ' then ' ~ dbt.datediff("cast('1970-01-01' as " ~ dbt.type_timestamp() ~ ")", 'loaded_at', 'second') ~ ' end), 0) as ' ~ dbt.type_string() ~ ')', "':'",
    'cast(count(*) - count(loaded_at) as ' ~ dbt.type_string() ~ ')']) }}
{%- endmacro %}

{#-
  on-run-start: decide what each incremental event model recomputes in this build and record it in
  billing_build_plans. Reads the applied state and raw.usage_events once (its newest loaded_at and
  a checksum at each recorded watermark).
-#}
{% macro plan_event_batches() %}
{%- if not execute or not billing.incremental_events() -%}{{ return('') }}{%- endif -%}
{%- set settings = billing.event_batch_settings() -%}
{%- set applied = {} -%}
{%- for row in run_query("select model_name, code_version, watermark_loaded_at, raw_rows_checksum from "
                         ~ billing.event_batch_state_relation('batches')).rows -%}
    {%- do applied.update({row[0]: {'code_version': row[1], 'watermark': row[2], 'checksum': row[3]}}) -%}
{%- endfor -%}
{%- set watermarks = [] -%}
{%- for state in applied.values() if state.watermark not in watermarks -%}{%- do watermarks.append(state.watermark) -%}{%- endfor -%}
{%- set raw_sql -%}
select cast(max(loaded_at) as {{ dbt.type_timestamp() }}), count(loaded_at), {{ billing.raw_rows_checksum_at('9999-12-31 00:00:00') }}
{%- for watermark in watermarks %}, {{ billing.raw_rows_checksum_at(watermark) }}{% endfor %}
from {{ source('raw', 'usage_events') }}
{%- endset -%}
{%- set raw = run_query(raw_sql).rows[0] -%}
{%- set newest = raw[0] -%}
{%- set selected = [] -%}
{%- for model_name in settings -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name
                                             and node.unique_id in selected_resources -%}
        {%- do selected.append(model_name) -%}
    {%- endfor -%}
{%- endfor -%}
{%- set rows = [] -%}
{%- set additions = [] -%}
{%- for model_name, model_settings in settings.items() if model_name in selected -%}
    {%- set state = applied.get(model_name) -%}
    {%- set code_version = billing.event_code_version(model_name) -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier=model_name) -%}
    {%- if relation is not none -%}{%- do additions.extend(billing.event_model_column_additions(model_name, relation)) -%}{%- endif -%}
    {%- set plan = {'decision': 'full', 'after': none, 'through': newest, 'delete_through': '9999-12-31 00:00:00',
                    'watermark': newest, 'count': raw[1], 'checksum': raw[2]} -%}
    {%- set unselected = model_settings.upstream | reject('in', selected) | list -%}
    {%- if unselected -%}
        {%- if state is none -%}
            {{ exceptions.raise_compiler_error(model_name ~ ": its input (" ~ unselected | join(', ')
                ~ ") is not selected and this model has never been built; build it with its input, e.g. dbt build --select +" ~ model_name) }}
        {%- endif -%}
        {%- do plan.update({'decision': 'skipped', 'reason': 'its input (' ~ unselected | join(', ') ~ ') is not selected',
                            'after': state.watermark, 'through': state.watermark, 'delete_through': state.watermark,
                            'watermark': state.watermark, 'count': none, 'checksum': state.checksum}) -%}
    {%- elif flags.FULL_REFRESH -%}
        {%- do plan.update({'reason': '--full-refresh'}) -%}
    {%- elif relation is none -%}
        {%- do plan.update({'reason': 'first build'}) -%}
    {%- elif state is none -%}
        {%- do plan.update({'reason': 'no recorded state'}) -%}
    {%- elif state.code_version != code_version -%}
        {%- do plan.update({'reason': 'the model, a model it depends on or a macro they use changed'}) -%}
    {%- elif raw[3 + watermarks.index(state.watermark)] != state.checksum -%}
        {%- do plan.update({'reason': 'raw rows appeared or disappeared at or before the last watermark, or rows without a loaded_at changed'}) -%}
    {%- else -%}
        {%- do plan.update({'decision': 'incremental', 'reason': 'rows loaded after ' ~ state.watermark,
                            'after': state.watermark, 'delete_through': newest}) -%}
    {%- endif -%}
    {%- do log(model_name ~ ": " ~ plan.decision ~ " (" ~ plan.reason ~ ")", info=true) -%}
    {%- set row -%}
    ('{{ invocation_id }}', '{{ model_name }}', {{ billing._timestamp_literal(run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f")) }},
     '{{ plan.decision }}', '{{ plan.reason }}',
     {{ billing._timestamp_literal(plan.after) if plan.after is not none else billing._min_timestamp() }},
     {{ billing._timestamp_literal(plan.through) if plan.through is not none else billing._min_timestamp() }},
     {{ billing._timestamp_literal(plan.delete_through) if plan.delete_through is not none else billing._min_timestamp() }},
     {{ billing._timestamp_literal(plan.watermark) if plan.watermark is not none else 'cast(null as ' ~ dbt.type_timestamp() ~ ')' }},
     {{ plan.count if plan.count is not none else 'cast(null as ' ~ dbt.type_bigint() ~ ')' }},
     '{{ plan.checksum }}', '{{ code_version }}')
    {%- endset -%}
    {%- do rows.append(row) -%}
{%- endfor -%}
{%- if rows -%}
{{ billing.run_statements(additions + ['insert into ' ~ billing.event_batch_state_relation('plans') ~ ' values\n' ~ rows | join(',\n')]) }}
{%- endif -%}
{% endmacro %}

{#-
  Columns an event model gained after databases were built with it: model -> [(column, type)].
  An incremental model's SQL reads its own table ({{ this }}) before dbt adds new columns to it, so a
  column the new SQL reads there is added first, empty (plan_event_batches, for each existing table).
  Its rows are rewritten with it on this build: the model's code changed, so its plan is `full`.
-#}
{% macro event_model_added_columns() -%}
{{ return({'int_events_deduplicated': [('transaction_key', billing.type_transaction_key())]}) }}
{%- endmacro %}

{#- The statements that add to `relation` the columns its model gained (none when it has them). -#}
{% macro event_model_column_additions(model_name, relation) %}
{{ return(adapter.dispatch('event_model_column_additions', 'billing')(model_name, relation)) }}
{% endmacro %}

{% macro default__event_model_column_additions(model_name, relation) %}
{%- set statements = [] -%}
{%- set wanted = billing.event_model_added_columns().get(model_name, []) -%}
{%- if wanted -%}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for name, data_type in wanted if name not in present -%}
        {%- do statements.append('alter table ' ~ relation ~ ' add columns (' ~ name ~ ' ' ~ data_type ~ ')') -%}
    {%- endfor -%}
{%- endif -%}
{{ return(statements) }}
{% endmacro %}

{#-
  DuckDB: `add column if not exists`, no metadata query: with dbt-duckdb 1.10, reading the table's
  columns (get_columns_in_relation) inside the hook lost the plan rows the hook then inserted.
-#}
{% macro duckdb__event_model_column_additions(model_name, relation) %}
{%- set statements = [] -%}
{%- for name, data_type in billing.event_model_added_columns().get(model_name, []) -%}
    {%- do statements.append('alter table ' ~ relation ~ ' add column if not exists ' ~ name ~ ' ' ~ data_type) -%}
{%- endfor -%}
{{ return(statements) }}
{% endmacro %}

{#- A value of this build's plan for `model_name`, as a scalar subquery. -#}
{% macro event_batch_plan(column, model_name=none) -%}
(select {{ column }} from {{ source('billing_state', 'build_plans') }}
 where invocation_id = '{{ invocation_id }}' and model_name = '{{ model_name or this.identifier }}')
{%- endmacro %}

{#-
  The rows of `relation` in this build's batch of `model_name`, as a union of disjoint branches
  (each prunable on its own): loaded in the batch window; without a loaded_at; earlier rows of
  customer keys whose attribution changed (`key`: the column holding the key as sent).
  `key_table`: `relation` is a stored table, so the key list holds a sentinel that is never empty
  (changed_attribution_keys); over a view that joins, an empty list lets DuckDB drop the branch
  while planning, and the sentinel made it join the whole history first (D85).
  Engines without in-place deletes rebuild the event models in full (D37): every row.
-#}
{% macro event_batch_rows(relation, key=none, model_name=none, key_table=false) -%}
{%- set model_name = model_name or this.identifier -%}
{%- if not billing.incremental_events() -%}
select * from {{ relation }}
{%- else -%}
select * from {{ relation }}
where loaded_at > {{ billing.event_batch_plan('batch_loaded_after', model_name) }}
    and loaded_at <= {{ billing.event_batch_plan('batch_loaded_through', model_name) }}
union all
select * from {{ relation }}
where loaded_at is null
    and {{ billing.event_batch_plan('decision', model_name) }} <> 'skipped'
{%- if key is not none %}
union all
select * from {{ relation }}
where loaded_at <= {{ billing.event_batch_plan('batch_loaded_after', model_name) }}
    and {{ key }} in {{ billing.changed_attribution_keys(model_name, sentinel=key_table) }}
{%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- The statements that delete the model's batch rows from its own table (event grain). -#}
{% macro event_batch_deletes(target_relation, key=none) -%}
{%- set deletes = [
    'delete from ' ~ target_relation ~ ' where loaded_at > ' ~ billing.event_batch_plan('batch_loaded_after')
        ~ ' and loaded_at <= ' ~ billing.event_batch_plan('delete_loaded_through'),
    'delete from ' ~ target_relation ~ ' where loaded_at is null and '
        ~ billing.event_batch_plan('decision') ~ " <> 'skipped'"] -%}
{%- if key is not none -%}
    {%- do deletes.append('delete from ' ~ target_relation ~ ' where ' ~ key ~ ' in '
        ~ billing.changed_attribution_keys(this.identifier)) -%}
{%- endif -%}
{{ return(deletes) }}
{%- endmacro %}

{#-
  A daily model's batch (int_usage_daily_batch, the rows of `model_name`: the calling model by
  default; int_usage_daily_partials and fct_usage_daily, DECISIONLOG D92): (contract, day) pairs
  within the batch's first and last day (scalar subqueries: a range DuckDB prunes by; `event_at`:
  bound on it instead of on the day), or everything on a full recompute; and customers whose every
  day is redone.
-#}
{% macro daily_batch_in_range(usage_date, contract_id, event_at=none, or_full=true, model_name=none) -%}
{%- set model_name = model_name or this.identifier -%}
{%- set batch = ref('int_usage_daily_batch') -%}
{%- set days = "batch_kind = 'day' and model_name = '" ~ model_name ~ "'" -%}
{%- if not billing.incremental_events() -%}
true
{%- else -%}
{%- if event_at is not none -%}
{{ event_at }} >= (select cast(min(usage_date) as {{ dbt.type_timestamp() }}) from {{ batch }} where {{ days }})
    and {{ event_at }} < (select {{ dbt.dateadd('day', 1, 'cast(max(usage_date) as ' ~ dbt.type_timestamp() ~ ')') }}
                          from {{ batch }} where {{ days }})
{%- else -%}
{{ usage_date }} >= (select min(usage_date) from {{ batch }} where {{ days }})
    and {{ usage_date }} <= (select max(usage_date) from {{ batch }} where {{ days }})
{%- endif %}
    and (
        {%- if or_full %}
        {{ billing.event_batch_plan('decision', model_name) }} = 'full'
        or {% endif %}exists (
            select 1 from {{ batch }} as batch_days
            where batch_days.batch_kind = 'day'
                and batch_days.model_name = '{{ model_name }}'
                and batch_days.contract_id = {{ contract_id }}
                and batch_days.usage_date = {{ usage_date }}
        )
    )
{%- endif -%}
{%- endmacro %}

{% macro daily_batch_customers(customer_id, model_name=none) -%}
{%- if not billing.incremental_events() -%}
false
{%- else -%}
{{ customer_id }} in (
    select customer_id from {{ ref('int_usage_daily_batch') }}
    where batch_kind = 'customer' and model_name = '{{ model_name or this.identifier }}'
)
{%- endif -%}
{%- endmacro %}

{#-
  The rows of `relation` (with usage_date, contract_id, customer_id; `event_at` to bound on) in
  the calling daily model's batch, as disjoint branches: all of them on a full recompute; else the batch's
  (contract, day) pairs, and the other days of the batch's customers. The full recompute has a branch
  of its own, so that it reads the rows as they are: as a condition on each row (`decision = 'full'
  or exists (...)`) it took 13 s of a 10 M-event first build where reading them takes 4 s (D83).
-#}
{% macro daily_batch_rows(relation, event_at=none) -%}
{%- if not billing.incremental_events() -%}
select * from {{ relation }}
{%- else -%}
{%- set decision = billing.event_batch_plan('decision') -%}
{%- set in_range = billing.daily_batch_in_range('batch_source.usage_date', 'batch_source.contract_id',
                                                 ('batch_source.' ~ event_at) if event_at else none, or_full=false) -%}
select * from {{ relation }} as batch_source
where {{ decision }} = 'full'
union all
select * from {{ relation }} as batch_source
where {{ decision }} <> 'full'
    and {{ in_range }}
union all
select * from {{ relation }} as batch_source
where {{ decision }} <> 'full'
    and {{ billing.daily_batch_customers('batch_source.customer_id') }}
    and not ({{ in_range }})
{%- endif -%}
{%- endmacro %}

{#- The rows of the model's own table that the batch replaces, as delete statements. -#}
{% macro event_batch_target_deletes(target_relation) -%}
{%- if this.identifier in ('int_usage_daily_partials', 'fct_usage_daily') -%}
{{ return([
    'delete from ' ~ target_relation ~ ' where '
        ~ billing.daily_batch_in_range(target_relation ~ '.usage_date', target_relation ~ '.contract_id'),
    'delete from ' ~ target_relation ~ ' where ' ~ billing.daily_batch_customers(target_relation ~ '.customer_id')]) }}
{%- elif this.identifier == 'int_events_deduplicated' -%}
{{ return(billing.event_batch_deletes(target_relation)) }}
{%- elif this.identifier == 'fct_event_load_summary' -%}
{#- a load is recounted whole: the loads of the batch window, and every load holding a changed key's rows -#}
{{ return(billing.event_batch_deletes(target_relation) + [
    'delete from ' ~ target_relation ~ ' where loaded_at in (' ~ billing.load_summary_changed_key_loads() ~ ')']) }}
{%- else -%}
{{ return(billing.event_batch_deletes(target_relation, key='sent_customer_id')) }}
{%- endif -%}
{%- endmacro %}

{#- fct_event_load_summary: the loads (before its batch window) holding rows of customer keys whose attribution changed. -#}
{% macro load_summary_changed_key_loads() -%}
select distinct loaded_at from {{ ref('fct_event_outcomes') }}
where loaded_at <= {{ billing.event_batch_plan('batch_loaded_after', 'fct_event_load_summary') }}
    and sent_customer_id in {{ billing.changed_attribution_keys('fct_event_load_summary') }}
{%- endmacro %}

{#-
  The customer keys (as sent) whose attribution changed, for `model_name`'s batch: an IN-list
  subquery. With `sentinel` it also holds '', which no staged key is (a blank key is rejected,
  missing_customer_id), so the list is never empty: DuckDB then skips a stored table's row groups by
  the list's min and max, where an empty list made it read every column of every row (3.8 s of
  fct_event_outcomes' 4.2 s at 100 M events, D85).
-#}
{% macro changed_attribution_keys(model_name, sentinel=true) -%}
(select attribution_key from {{ ref('int_event_batch_key_changes') }} where model_name = '{{ model_name }}'
{%- if sentinel %}
 union all select ''
{%- endif -%}
)
{%- endmacro %}

{#- Incremental strategy `event_batch`: replace the batch's rows (delete, then insert the recomputed ones). -#}
{% macro get_incremental_event_batch_sql(arg_dict) %}
{%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
{{ billing.run_statements(billing.event_batch_target_deletes(arg_dict['target_relation']) + [
    'insert into ' ~ arg_dict['target_relation'] ~ ' (' ~ columns ~ ')\nselect ' ~ columns ~ ' from ' ~ arg_dict['temp_relation']]) }}
{% endmacro %}

{#- Post-hook: record what the model now holds, as the plan said (same transaction as its rows). -#}
{% macro record_event_batch() %}
{%- if execute and billing.incremental_events() -%}
{%- set model_name = this.identifier -%}
{%- set plan_row = "from " ~ source('billing_state', 'build_plans') ~ " where invocation_id = '" ~ invocation_id
                   ~ "' and model_name = '" ~ model_name ~ "'" -%}
{%- set applies = "exists (select 1 " ~ plan_row ~ " and decision <> 'skipped')" -%}
{%- set statements = [
    "delete from " ~ billing.event_batch_state_relation('batches') ~ " where model_name = '" ~ model_name ~ "' and " ~ applies,
    "insert into " ~ billing.event_batch_state_relation('batches') ~ " (model_name, code_version, watermark_loaded_at,"
        ~ " raw_rows_through_watermark, raw_rows_checksum, batch_loaded_after, processed_at)"
        ~ " select model_name, code_version, watermark_loaded_at, raw_rows_through_watermark, raw_rows_checksum,"
        ~ " case when decision = 'incremental' then batch_loaded_after end, planned_at " ~ plan_row
        ~ " and decision <> 'skipped'"] -%}
{%- if billing.event_batch_settings(model_name)['keys'] -%}
    {%- do statements.append("delete from " ~ billing.event_batch_state_relation('keys') ~ " where model_name = '"
                             ~ model_name ~ "' and " ~ applies) -%}
    {%- do statements.append("insert into " ~ billing.event_batch_state_relation('keys')
                             ~ " (model_name, attribution_key, customer_id, attribution_state) select '" ~ model_name
                             ~ "', attribution_key, customer_id, attribution_state from " ~ ref('int_attribution_keys')
                             ~ " where " ~ applies) -%}
{%- endif -%}
{{ billing.run_statements(statements) }}
{%- endif -%}
{% endmacro %}

{#-
  The start of the earliest billing period this build rates (int_periods_to_rate), as a scalar
  subquery: the rating models read only events from then on, and DuckDB skips older row groups.
  The calling model declares `-- depends_on: {{ ref('int_periods_to_rate') }}`.
-#}
{% macro rating_window_start() -%}
(select min(period_starting_at) from {{ ref('int_periods_to_rate') }})
{%- endmacro %}

{#-
  Where the event tests look: rows loaded after the last build's batch started (everything after a
  first or full build), as a scalar subquery over the recorded state.
-#}
{% macro tested_events_loaded_after() -%}
(select coalesce(max(batch_loaded_after), {{ billing._min_timestamp() }})
 from {{ source('billing_state', 'event_batches') }} where model_name = 'int_events_deduplicated')
{%- endmacro %}

{#-
  The rows of `relation` in the tested batch's loads, rows without a loaded_at included, as two
  branches: `loaded_at > x or loaded_at is null` as one condition cannot skip a row group, so every
  test read all history (174 M match rows at 100 M events); each branch alone is pruned by DuckDB's
  min/max of the column.
    from ({{ billing.tested_rows(ref('fct_event_outcomes')) }}) as tested
-#}
{% macro tested_rows(relation) -%}
select * from {{ relation }} where loaded_at > {{ billing.tested_events_loaded_after() }}
union all
select * from {{ relation }} where loaded_at is null
{%- endmacro %}
