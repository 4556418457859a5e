{#-
  Incremental event processing (DECISIONLOG D32).

  The per-event models (int_events_deduplicated, int_metric_events, fct_event_outcomes) and
  fct_usage_daily are incremental. Each build recomputes a *batch* of their rows and leaves the
  rest as it is. The batch is a predicate over the event rows:

    - rows loaded since the model last ran: watermark_from < loaded_at <= watermark_to
      (watermark_to: for int_events_deduplicated the newest loaded_at in raw.usage_events, for the
      others what their upstream event model has processed, so a model never gets ahead of its input);
    - rows without a loaded_at (not landed by `billing ingest`), every build;
    - rows of customer keys (a customer_id or an ingest alias, as sent) whose attribution changed:
      the key now resolves to another customer, or that customer's contract windows changed
      (int_attribution_keys holds each key's state; the state a model last applied is recorded).

  Recomputing a batch deletes the target rows matching the predicate and inserts the recomputed
  ones (the `event_batch` incremental strategy below), so a batch can be applied twice without
  harm, and an over-wide batch is only slower, never wrong. Everything is recomputed (a full
  batch) when the model or any model it depends on changed (the metric definitions are models),
  when `future_event_tolerance_hours` changed, on --full-refresh, when the model has no recorded
  state, and when raw rows appeared at or below the recorded watermark (back-dated loads, deletes).

  Per model, what it last applied is kept in two tables created at run start:
  billing_event_batches (watermark, raw rows through it, code version) and
  billing_event_batch_keys (the key states). A model's post-hook writes them in the same
  transaction as its rows.
-#}

{#- The incremental event models: what bounds their watermark and where their key states come from. -#}
{% macro event_batch_settings(model_name) %}
{%- set settings = {
    'int_events_deduplicated': {'upstream': [], 'keys_from': none, 'grain': 'event'},
    'int_metric_events': {'upstream': ['int_events_deduplicated'], 'keys_from': 'current', 'grain': 'event'},
    'fct_event_outcomes': {'upstream': ['int_events_deduplicated', 'int_metric_events'],
                           'keys_from': 'int_metric_events', 'grain': 'event'},
    'fct_usage_daily': {'upstream': ['int_metric_events'], 'keys_from': 'int_metric_events', 'grain': 'daily'},
} -%}
{%- if model_name not in settings -%}
    {{ exceptions.raise_compiler_error("event_batch: " ~ model_name ~ " is not an incremental event model") }}
{%- endif -%}
{{ return(settings[model_name]) }}
{% endmacro %}

{% macro event_batch_state_relation(kind='batches') -%}
{{ target.schema }}.billing_event_{{ 'batches' if kind == 'batches' else 'batch_keys' }}
{%- endmacro %}

{#- Run at the start of every invocation (dbt_project.yml on-run-start). -#}
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
{{ billing.run_statements(['create schema if not exists ' ~ target.schema, create_batches, create_keys]) }}
{% endmacro %}

{#-
  A fingerprint of the model's code and of every model it depends on (not of seed data), the macros
  they call (by name), the dbt version, and the vars that shape events. Macro bodies are not in
  dbt's graph: `event_logic_version` (dbt_project.yml) stands for them, and a test
  (tests/test_incremental.py) fails when a macro the event models use changes without a bump.
-#}
{% macro event_code_version(model_name) %}
{%- set root = none -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name and node.package_name == 'billing' -%}
    {%- set root = node -%}
    {%- set queue = [node.unique_id] -%}
    {%- set seen = [] -%}
    {%- for node_id in queue -%}
        {%- if node_id not in seen and node_id in graph.nodes -%}
            {%- do seen.append(node_id) -%}
            {%- for parent in graph.nodes[node_id].depends_on.nodes if parent.startswith('model.') -%}
                {%- do queue.append(parent) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set parts = ['future_event_tolerance_hours=' ~ var('future_event_tolerance_hours'),
                     'event_logic_version=' ~ var('event_logic_version'), 'dbt=' ~ dbt_version] -%}
    {%- for node_id in seen | sort -%}
        {%- do parts.append(node_id ~ ':' ~ graph.nodes[node_id].checksum.checksum ~ ':'
                            ~ graph.nodes[node_id].depends_on.macros | sort | join(',')) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endfor -%}
{{ exceptions.raise_compiler_error("event_batch: model " ~ model_name ~ " not found in the graph") }}
{% endmacro %}

{#- The SQL of the key states a model should now have applied: the current ones or its upstream's. -#}
{% macro event_batch_key_source(settings) -%}
{%- if settings.keys_from == 'current' -%}
select attribution_key, customer_id, attribution_state from {{ ref('int_attribution_keys') }}
{%- else -%}
select attribution_key, customer_id, attribution_state
from {{ billing.event_batch_state_relation('keys') }}
where model_name = '{{ settings.keys_from }}'
{%- endif -%}
{%- endmacro %}

{#- Keys whose attribution changed since the model last ran, with the customer they resolved to then and now. -#}
{% macro changed_attribution_keys(model_name) -%}
{%- set settings = billing.event_batch_settings(model_name) -%}
select
    coalesce(current_keys.attribution_key, applied_keys.attribution_key) as attribution_key,
    current_keys.customer_id,
    applied_keys.customer_id as previous_customer_id
from ({{ billing.event_batch_key_source(settings) }}) as current_keys
full outer join (
    select attribution_key, customer_id, attribution_state
    from {{ billing.event_batch_state_relation('keys') }}
    where model_name = '{{ model_name }}'
) as applied_keys
    on current_keys.attribution_key = applied_keys.attribution_key
where current_keys.attribution_key is null
    or applied_keys.attribution_key is null
    or current_keys.attribution_state <> applied_keys.attribution_state
{%- endmacro %}

{#- What the count check compares: rows with a loaded_at, the sum of their loaded_at (seconds), rows without. -#}
{% macro raw_rows_checksum(loaded_at='loaded_at') -%}
{{ dbt.concat([
    'cast(count(' ~ loaded_at ~ ') as ' ~ dbt.type_string() ~ ')', "':'",
    'cast(coalesce(sum(' ~ dbt.datediff("cast('1970-01-01' as " ~ dbt.type_timestamp() ~ ")", loaded_at, 'second') ~ '), 0) as ' ~ dbt.type_string() ~ ')', "':'",
    'cast(count(*) - count(' ~ loaded_at ~ ') as ' ~ dbt.type_string() ~ ')']) }}
{%- endmacro %}

{% macro _timestamp_literal(value) -%}
cast('{{ value }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#-
  What this build recomputes for the current model (`this`). Returns a dict:
  full (everything up to watermark_to), reason, watermark_from, watermark_to (None: no row with a
  loaded_at), changed_keys (some keys' attribution changed).
-#}
{% macro event_batch(log_decision=false) %}
{%- set model_name = this.identifier -%}
{%- set settings = billing.event_batch_settings(model_name) -%}
{%- set batch = {'full': true, 'reason': 'first build', 'watermark_from': none, 'watermark_to': none,
                 'changed_keys': false, 'bounded': false} -%}
{#- without in-place deletes (Spark on Parquet) the model is a table of every event, rebuilt each time -#}
{%- if not execute or not billing.incremental_events() -%}{{ return(batch) }}{%- endif -%}
{%- do batch.update({'bounded': true}) -%}

{#- the upper bound: what the input holds -#}
{%- if settings.upstream | length == 0 -%}
    {%- set bound = run_query("select max(loaded_at) from " ~ source('raw', 'usage_events')) -%}
    {%- do batch.update({'watermark_to': bound.columns[0].values()[0]}) -%}
{%- else -%}
    {%- set bound = run_query(
        "select count(*), min(watermark_loaded_at), count(watermark_loaded_at) from " ~ billing.event_batch_state_relation('batches')
        ~ " where model_name in ('" ~ settings.upstream | join("', '") ~ "')") -%}
    {%- set row = bound.rows[0] -%}
    {%- if row[0] < settings.upstream | length -%}
        {{ exceptions.raise_compiler_error(model_name ~ ": its input (" ~ settings.upstream | join(', ')
            ~ ") has not been built yet; build it first, e.g. dbt build --select +" ~ model_name) }}
    {%- elif row[2] < row[0] -%}
        {#- an upstream model has processed nothing with a loaded_at yet -#}
        {%- do batch.update({'watermark_to': none}) -%}
    {%- else -%}
        {%- do batch.update({'watermark_to': row[1]}) -%}
    {%- endif -%}
{%- endif -%}

{%- if is_incremental() -%}
    {%- set state = run_query(
        "select code_version, watermark_loaded_at, raw_rows_checksum from "
        ~ billing.event_batch_state_relation('batches') ~ " where model_name = '" ~ model_name ~ "'") -%}
    {%- if state.rows | length == 0 -%}
        {%- do batch.update({'reason': 'no recorded state'}) -%}
    {%- elif state.rows[0][0] != billing.event_code_version(model_name) -%}
        {%- do batch.update({'reason': 'the model or a model it depends on changed'}) -%}
    {%- else -%}
        {%- set previous = state.rows[0] -%}
        {%- set below = run_query("select " ~ billing.raw_rows_checksum() ~ " from " ~ source('raw', 'usage_events')
            ~ " where loaded_at is null"
            ~ ((" or loaded_at <= " ~ billing._timestamp_literal(previous[1])) if previous[1] is not none else "")) -%}
        {%- if below.columns[0].values()[0] != previous[2] -%}
            {%- do batch.update({'reason': 'raw rows appeared or disappeared at or before the last watermark, or rows without a loaded_at changed'}) -%}
        {%- else -%}
            {%- set changed = run_query("select count(*) from (" ~ billing.changed_attribution_keys(model_name) ~ ") as changed") -%}
            {%- do batch.update({'full': false, 'reason': 'incremental', 'watermark_from': previous[1],
                                 'changed_keys': changed.columns[0].values()[0] > 0}) -%}
        {%- endif -%}
    {%- endif -%}
{%- endif -%}
{%- if log_decision -%}
    {%- do log(model_name ~ ": " ~ ('recomputing all events (' ~ batch.reason ~ ')' if batch.full else
               'events loaded after ' ~ batch.watermark_from ~ ' up to ' ~ batch.watermark_to
               ~ (', and the events of customer keys whose attribution changed' if batch.changed_keys else '')), info=true) -%}
{%- endif -%}
{{ return(batch) }}
{% endmacro %}

{#- The rows of an event relation that belong to the batch. -#}
{% macro event_batch_predicate(batch, loaded_at='loaded_at', key=none, model_name=none) -%}
{%- if not batch.bounded -%}
true
{%- else -%}
{%- set parts = [loaded_at ~ ' is null'] -%}
{%- if batch.watermark_to is not none -%}
    {%- if batch.full or batch.watermark_from is none -%}
        {%- do parts.append(loaded_at ~ ' <= ' ~ billing._timestamp_literal(batch.watermark_to)) -%}
    {%- elif batch.watermark_to > batch.watermark_from -%}
        {%- do parts.append('(' ~ loaded_at ~ ' > ' ~ billing._timestamp_literal(batch.watermark_from) ~ ' and '
                            ~ loaded_at ~ ' <= ' ~ billing._timestamp_literal(batch.watermark_to) ~ ')') -%}
    {%- endif -%}
{%- endif -%}
{%- if key is not none and batch.changed_keys and not batch.full -%}
    {#- only rows the input holds (not above the watermark) -#}
    {%- do parts.append('(' ~ key ~ ' in (select attribution_key from ('
                        ~ billing.changed_attribution_keys(model_name or this.identifier) ~ ') as changed_keys) and '
                        ~ ((loaded_at ~ ' <= ' ~ billing._timestamp_literal(batch.watermark_to)) if batch.watermark_to is not none
                           else 'false') ~ ')') -%}
{%- endif -%}
({{ parts | join(' or ') }})
{%- endif -%}
{%- endmacro %}

{#-
  fct_usage_daily's batch: every (contract, day) that a batch event falls on, and every customer
  that a changed key resolved to before or resolves to now. The batch's first and last days are
  looked up first and written as literals, so that a scan of the (event-time ordered) event tables
  reads only that slice: with `event_at`, the bound is on it, otherwise on `usage_date`.
-#}
{% macro daily_batch_predicate(batch, customer_id='customer_id', contract_id='contract_id', usage_date='usage_date',
                               event_at=none) -%}
{%- if not batch.bounded or batch.full -%}
true
{%- else -%}
{#- looked up once per batch: the model's two reads share it -#}
{%- if 'days' not in batch -%}{%- do batch.update({'days': billing.daily_batch_days(batch)}) -%}{%- endif -%}
{%- set days = batch.days -%}
{%- set parts = [] -%}
{%- if days.first is not none -%}
    {%- if event_at is not none -%}
        {%- set in_range = event_at ~ ' >= ' ~ billing._timestamp_literal(days.first) ~ ' and ' ~ event_at ~ ' < '
                           ~ billing._timestamp_literal(days.last + modules.datetime.timedelta(days=1)) -%}
    {%- else -%}
        {%- set in_range = usage_date ~ " >= cast('" ~ days.first ~ "' as date) and " ~ usage_date
                           ~ " <= cast('" ~ days.last ~ "' as date)" -%}
    {%- endif -%}
    {%- set batch_days -%}
    ({{ in_range }}
        and exists (
            select 1
            from (
                select distinct contract_id as batch_contract_id, cast(event_at as date) as batch_usage_date
                from {{ ref('int_metric_events') }}
                where contract_id is not null
                    and {{ billing.event_batch_predicate(batch) }}
            ) as batch_days
            where batch_days.batch_contract_id = {{ contract_id }}
                and batch_days.batch_usage_date = {{ usage_date }}
        ))
    {%- endset -%}
    {%- do parts.append(batch_days) -%}
{%- endif -%}
{%- if days.unloaded -%}
    {#- a row without a loaded_at is in every batch and may lose its id to a later load: its customer's days are redone -#}
    {%- set unloaded_customers -%}
    {{ customer_id }} in (
        select attribution_keys.customer_id
        from {{ ref('int_events_deduplicated') }} as unloaded
        inner join {{ ref('int_attribution_keys') }} as attribution_keys
            on unloaded.customer_id = attribution_keys.attribution_key
        where unloaded.loaded_at is null
    )
    {%- endset -%}
    {%- do parts.append(unloaded_customers) -%}
{%- endif -%}
{%- if batch.changed_keys -%}
    {%- set changed_customers -%}
    {{ customer_id }} in (
        select customer_id from ({{ billing.changed_attribution_keys(this.identifier) }}) as changed_keys
        where customer_id is not null
        union
        select previous_customer_id from ({{ billing.changed_attribution_keys(this.identifier) }}) as changed_keys
        where previous_customer_id is not null
    )
    {%- endset -%}
    {%- do parts.append(changed_customers) -%}
{%- endif -%}
{%- if parts -%}
(
    {{ parts | join('\n    or ') }}
)
{%- else -%}
false
{%- endif -%}
{%- endif -%}
{%- endmacro %}

{#- The first and last day of the batch's metric matches (none when it has none), and whether some events have no loaded_at. -#}
{% macro daily_batch_days(batch) %}
{%- set bounds = run_query("select min(cast(event_at as date)), max(cast(event_at as date)) from " ~ ref('int_metric_events')
                           ~ " where contract_id is not null and " ~ billing.event_batch_predicate(batch)) -%}
{%- set unloaded = run_query("select count(*) from " ~ ref('int_events_deduplicated') ~ " where loaded_at is null") -%}
{{ return({'first': bounds.rows[0][0], 'last': bounds.rows[0][1], 'unloaded': unloaded.rows[0][0] > 0}) }}
{% endmacro %}

{#- The rows of the model's own table that the batch replaces. -#}
{% macro event_batch_target_predicate() -%}
{%- set batch = billing.event_batch() -%}
{%- if batch.full -%}
true
{%- elif billing.event_batch_settings(this.identifier).grain == 'daily' -%}
{{ billing.daily_batch_predicate(batch, customer_id=this ~ '.customer_id', contract_id=this ~ '.contract_id',
                                 usage_date=this ~ '.usage_date') }}
{%- else -%}
{{ billing.event_batch_predicate(batch, key='sent_customer_id') }}
{%- endif -%}
{%- endmacro %}

{#- Incremental strategy `event_batch`: replace the batch's rows (delete, then insert the recomputed ones). -#}
{% macro get_incremental_event_batch_sql(arg_dict) %}
{%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
{{ billing.run_statements([
    'delete from ' ~ arg_dict['target_relation'] ~ '\nwhere ' ~ billing.event_batch_target_predicate(),
    'insert into ' ~ arg_dict['target_relation'] ~ ' (' ~ columns ~ ')\nselect ' ~ columns ~ ' from ' ~ arg_dict['temp_relation']]) }}
{% endmacro %}

{#- Post-hook: record what the model now holds (same transaction as its rows). -#}
{% macro record_event_batch() %}
{%- if execute and billing.incremental_events() -%}
{%- set model_name = this.identifier -%}
{%- set settings = billing.event_batch_settings(model_name) -%}
{%- set statements = ["delete from " ~ billing.event_batch_state_relation('batches') ~ " where model_name = '" ~ model_name ~ "'"] -%}
{%- set insert_batch %}
insert into {{ billing.event_batch_state_relation('batches') }}
    (model_name, code_version, watermark_loaded_at, raw_rows_through_watermark, raw_rows_checksum, batch_loaded_after,
     processed_at)
select '{{ model_name }}', '{{ billing.event_code_version(model_name) }}', watermark_loaded_at, raw_rows_through_watermark,
    raw_rows_checksum,
    {%- set batch = billing.event_batch() %}
    {% if batch.full or batch.watermark_from is none %}cast(null as {{ dbt.type_timestamp() }}){% else %}{{ billing._timestamp_literal(batch.watermark_from) }}{% endif %},
    {{ dbt.current_timestamp() }}
from (
{%- if settings.upstream | length == 0 %}
    select max(loaded_at) as watermark_loaded_at, count(loaded_at) as raw_rows_through_watermark,
        {{ billing.raw_rows_checksum() }} as raw_rows_checksum
    from {{ this }}
{%- else %}
    {#- as far as the least advanced upstream model -#}
    select watermark_loaded_at, raw_rows_through_watermark, raw_rows_checksum
    from {{ billing.event_batch_state_relation('batches') }}
    where model_name in ('{{ settings.upstream | join("', '") }}')
    order by case when watermark_loaded_at is null then 0 else 1 end, watermark_loaded_at
    limit 1
{%- endif %}
) as processed
{%- endset -%}
{%- do statements.append(insert_batch) -%}
{%- do statements.append("delete from " ~ billing.event_batch_state_relation('keys') ~ " where model_name = '" ~ model_name ~ "'") -%}
{%- if settings.keys_from is not none -%}
{%- set insert_keys %}
insert into {{ billing.event_batch_state_relation('keys') }} (model_name, attribution_key, customer_id, attribution_state)
select '{{ model_name }}', attribution_key, customer_id, attribution_state
from ({{ billing.event_batch_key_source(settings) }}) as current_keys
{%- endset -%}
{%- do statements.append(insert_keys) -%}
{%- endif -%}
{{ billing.run_statements(statements) }}
{%- endif -%}
{% endmacro %}

{#-
  The start of the earliest billing period this build rates (int_periods_to_rate), as a literal:
  the rating models read only events from then on, so that the scan of the event tables can skip
  older row groups. (A literal, not a subquery, so that engines can prune by it.) The calling model
  declares `-- depends_on: {{ ref('int_periods_to_rate') }}`.
-#}
{% macro rating_window_start() -%}
{%- set start = none -%}
{%- if execute -%}
    {%- set result = run_query("select min(period_starting_at) from " ~ ref('int_periods_to_rate')) -%}
    {%- set start = result.columns[0].values()[0] -%}
{%- endif -%}
{%- if start is none -%}
    {%- set start = '9999-12-31 00:00:00' if execute else '0001-01-01 00:00:00' -%}
{%- endif -%}
{{ billing._timestamp_literal(start) }}
{%- endmacro %}

{#-
  Where the event tests look: rows loaded after this lower bound (the last build's batch), or
  everything after a first or full build. A literal, so that engines can prune by it.
-#}
{% macro tested_events_loaded_after() -%}
{%- set after = none -%}
{%- if execute -%}
    {%- set result = run_query("select max(batch_loaded_after) from " ~ billing.event_batch_state_relation('batches')
                               ~ " where model_name = 'int_events_deduplicated'") -%}
    {%- set after = result.columns[0].values()[0] -%}
{%- endif -%}
{{ return(after) }}
{%- endmacro %}
