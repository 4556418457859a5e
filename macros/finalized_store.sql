{#-
  The invoice store (models/finalized, DATA_CONTRACT semantics 10, DECISIONLOG D29, D43).

  One append-only table, `invoice_store`, holds every final invoice: its header, its lines and the
  balance drawdowns it made, one row each (record_type 'invoice', 'line', 'drawdown'), all written by
  ONE insert of the `invoice_store` model. An invoice is final exactly when its rows are there; a
  build killed at any moment has stored all of an invoice or nothing of it. `billing invoices void`
  appends a 'void' row for a version; the next build stores the regenerated invoice as the next
  version. Rows are never updated or deleted.

  The table is created by on-run-start (so it exists before anything reads it) and declared as the
  source `billing_state.invoice_store`: the rating models read it as it was when the build started
  (which invoices are final, what they billed and drew), the `invoice_store` model appends to it at
  the end of the build; dbt's lineage shows that loop through the source.

  Every row carries the storing build's time stamps (DECISIONLOG D43):
    stored_at              the real time the storing build started (never the simulated as-of);
    stored_as_of           the billing_as_of it evaluated statuses at;
    events_loaded_through  the newest loaded_at among the events the build rated: an event loaded
                           later was not seen by that build, so it is late for the invoice.
-#}
{% macro invoice_store_relation() -%}
{{ target.schema }}.invoice_store
{%- endmacro %}

{#- The store's columns, per record type ('all' = the table). One list, used by create, model and readers. -#}
{% macro invoice_store_columns(record_type='all') -%}
{%- set string, stamp, number, money, bigint = dbt.type_string(), dbt.type_timestamp(), billing.type_decimal(), billing.type_money(), dbt.type_bigint() -%}
{%- set common = [
    ('record_type', string), ('invoice_id', string), ('invoice_version', bigint), ('contract_id', string),
    ('stored_at', stamp), ('stored_as_of', stamp), ('events_loaded_through', stamp), ('stored_by_invocation_id', string)] -%}
{%- set by_type = {
    'invoice': [],
    'line': [],
    'drawdown': [('balance_id', string), ('drawn_amount', money)],
    'void': [('void_reason', string), ('voided_by', string)],
} -%}
{#- an invoice's and a line's columns are fct_invoices' and fct_invoice_line_items' (macros/line_items.sql),
    less the common ones -#}
{%- set common_names = common | map(attribute=0) | list -%}
{%- for column in billing.invoice_column_types() if column[0] not in common_names -%}
    {%- do by_type['invoice'].append(column) -%}
{%- endfor -%}
{%- for column in billing.line_item_column_types() if column[0] not in common_names -%}
    {%- do by_type['line'].append(column) -%}
{%- endfor -%}
{%- if record_type != 'all' -%}{{ return(common + by_type[record_type]) }}{%- endif -%}
{%- set columns = [] -%}
{%- set names = [] -%}
{%- for column in common + by_type['invoice'] + by_type['line'] + by_type['drawdown'] + by_type['void'] -%}
    {%- if column[0] not in names -%}{%- do names.append(column[0]) -%}{%- do columns.append(column) -%}{%- endif -%}
{%- endfor -%}
{{ return(columns) }}
{%- endmacro %}

{#- on-run-start: the store exists before the first model reads it (and an older project's store is moved in). -#}
{% macro create_invoice_store() %}
{%- set create %}
create table if not exists {{ billing.invoice_store_relation() }} (
    {%- for name, type in billing.invoice_store_columns() %}
    {{ name }} {{ type }}{% if not loop.last %},{% endif %}
    {%- endfor %}
) {{ billing.table_format_clause() }}
{%- endset %}
{%- set statements = ['create schema if not exists ' ~ target.schema, create] + billing.migrate_invoice_store()
                      + billing.widen_stored_money() -%}
{#- dbt listed the relations before this hook: tell it the table exists, so the model appends to it -#}
{%- if execute -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier='invoice_store') -%}
    {%- if relation is none -%}
        {%- do adapter.cache_added(api.Relation.create(database=target.database if target.database is defined else none,
                                                       schema=target.schema, identifier='invoice_store', type='table')) -%}
    {%- endif -%}
{%- endif -%}
{{ billing.run_statements(statements) }}
{% endmacro %}

{#-
  Before D43 the store was three tables (finalized_invoices, _invoice_line_items, _balance_drawdowns,
  now views over invoice_store). On the first build of a database that has them as tables and an
  empty invoice_store, their rows are copied in as version 1 (their stored_at was the as-of, which
  also served as the lateness bound). The view models then replace the old tables.
-#}
{% macro migrate_invoice_store() %}
{%- if not execute -%}{{ return([]) }}{%- endif -%}
{%- set old = adapter.get_relation(database=target.database, schema=target.schema, identifier='finalized_invoices') -%}
{%- if old is none or not old.is_table -%}{{ return([]) }}{%- endif -%}
{%- set store = adapter.get_relation(database=target.database, schema=target.schema, identifier='invoice_store') -%}
{%- if store is not none and run_query('select count(*) from ' ~ store).columns[0].values()[0] > 0 -%}{{ return([]) }}{%- endif -%}
{%- set statements = [] -%}
{#- the pre-D43 tables had every column of their record type (dbt's column lookup is not used: it
    would open a transaction on the hook's connection that nothing commits) -#}
{%- for record_type, table in [('invoice', 'finalized_invoices'), ('line', 'finalized_invoice_line_items'),
                               ('drawdown', 'finalized_balance_drawdowns')] -%}
    {%- set values = {'record_type': "'" ~ record_type ~ "'", 'invoice_version': '1', 'stored_as_of': 'stored_at',
                      'events_loaded_through': 'stored_at', 'stored_by_invocation_id': "'migrated'"} -%}
    {%- set names = [] -%}
    {%- set expressions = [] -%}
    {%- for name, type in billing.invoice_store_columns(record_type) -%}
        {%- do names.append(name) -%}
        {%- do expressions.append(values.get(name, name)) -%}
    {%- endfor -%}
    {%- do statements.append('insert into ' ~ billing.invoice_store_relation() ~ ' (' ~ names | join(', ') ~ ') select '
                             ~ expressions | join(', ') ~ ' from ' ~ target.schema ~ '.' ~ table) -%}
{%- endfor -%}
{{ return(statements) }}
{% endmacro %}

{#-
  Before D70 money was DECIMAL(38, 2). The stores a database keeps across builds (the invoice store,
  and the alert store whose current_value is money) then had money columns of that type, which cannot
  hold a KWD amount's third place: the invoice store's model (on_schema_change='fail') would refuse
  the wider type, the alert store's (append_new_columns) would round it into the old one, silently. On the first build of such a database the columns are widened in place to
  billing.type_money(): ALTER ... SET DATA TYPE on DuckDB, exact (12.34 is 12.340, the same number; no
  row is added, removed or changed in value). Spark cannot widen a decimal's scale in place (neither
  parquet nor Delta tables): the build stops, naming the columns and what to do.
-#}
{% macro widen_stored_money() %}{{ return(adapter.dispatch('widen_stored_money', 'billing')()) }}{% endmacro %}

{#- table -> its money columns, of the tables kept across builds (the invoice store's from its one list). -#}
{% macro stored_money_columns() -%}
{{ return({
    'invoice_store': billing.invoice_store_columns() | selectattr(1, 'equalto', billing.type_money()) | map(attribute=0) | list,
    'alert_state_changes': ['current_value'],
}) }}
{%- endmacro %}

{% macro default__widen_stored_money() %}
{%- if not execute -%}{{ return([]) }}{%- endif -%}
{%- set conditions = [] -%}
{%- for table, columns in billing.stored_money_columns().items() -%}
    {%- do conditions.append("(table_name = '" ~ table ~ "' and column_name in ('" ~ columns | join("', '") ~ "'))") -%}
{%- endfor -%}
{%- set narrow = run_query(
    "select table_name, column_name from information_schema.columns where table_schema = '" ~ target.schema
    ~ "' and numeric_scale < " ~ billing.money_scale() ~ " and (" ~ conditions | join(' or ')
    ~ ") order by table_name, column_name"
) -%}
{%- set statements = [] -%}
{%- for row in narrow -%}
    {%- do statements.append('alter table ' ~ target.schema ~ '.' ~ row[0] ~ ' alter column ' ~ row[1]
                             ~ ' set data type ' ~ billing.type_money()) -%}
{%- endfor -%}
{{ return(statements) }}
{% endmacro %}

{% macro spark__widen_stored_money() %}
{%- if not execute -%}{{ return([]) }}{%- endif -%}
{%- set narrow = [] -%}
{%- for table, columns in billing.stored_money_columns().items() -%}
    {%- if adapter.get_relation(database=none, schema=target.schema, identifier=table) is not none -%}
        {%- for row in run_query('describe table ' ~ target.schema ~ '.' ~ table) -%}
            {%- set type = row[1] | lower | replace(' ', '') -%}
            {%- if row[0] in columns and type.startswith('decimal(') and type.split(',')[-1].rstrip(')') | int < billing.money_scale() | int -%}
                {%- do narrow.append(table ~ '.' ~ row[0] ~ ' ' ~ row[1]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endfor -%}
{%- if narrow -%}
    {{ exceptions.raise_compiler_error('money columns written before DECISIONLOG D70 ('
        ~ narrow | unique | join(', ') ~ ') must become ' ~ billing.type_money() ~ ', which Spark cannot do in place: '
        ~ 'copy each table with those columns cast to ' ~ billing.type_money() ~ ', put the copy in its place, then build again.') }}
{%- endif -%}
{{ return([]) }}
{% endmacro %}
{% macro databricks__widen_stored_money() %}{{ return(billing.spark__widen_stored_money()) }}{% endmacro %}

{#-
  The rows of one record type of the invoices that are final in `relation` (the store): for each
  invoice its latest stored version, unless a 'void' row voids that version.
-#}
{% macro current_store_records(relation, record_type) -%}
{%- set columns = billing.invoice_store_columns(record_type) -%}
select {% for name, type in columns %}records.{{ name }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ relation }} as records
inner join (
    select latest.invoice_id, latest.invoice_version
    from (
        select invoice_id, max(invoice_version) as invoice_version
        from {{ relation }}
        where record_type = 'invoice'
        group by invoice_id
    ) as latest
    left join (
        select invoice_id, invoice_version from {{ relation }} where record_type = 'void'
    ) as voided
        on latest.invoice_id = voided.invoice_id
        and latest.invoice_version = voided.invoice_version
    where voided.invoice_id is null
) as current_versions
    on records.invoice_id = current_versions.invoice_id
    and records.invoice_version = current_versions.invoice_version
where records.record_type = '{{ record_type }}'
{%- endmacro %}

{#- One branch of the store's insert: `relation`'s rows as store rows of `record_type`, other columns NULL. -#}
{% macro invoice_store_rows(record_type, relation, stamps) -%}
{%- set own = billing.invoice_store_columns(record_type) | map(attribute=0) | list -%}
select
    {%- for name, type in billing.invoice_store_columns() %}
    {% if name == 'record_type' -%}
        '{{ record_type }}'
    {%- elif name in stamps -%}
        {{ stamps[name] }}
    {%- elif name in own -%}
        cast({{ relation }}.{{ name }} as {{ type }})
    {%- else -%}
        cast(null as {{ type }})
    {%- endif %} as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
