{#-
  The finalized-invoice store (models/finalized, DATA_CONTRACT semantics 10, DECISIONLOG D29).

  The rating models need the store as it was when the build started (which invoices are already
  final, what they billed, what balances they drew), while the store models are built from the
  rating models. To keep the DAG acyclic the rating models read the store tables directly through
  `billing.stored(name)` instead of ref(): the store tables are only written after every model
  that reads them this way has run. Before the first build stores anything, an empty typed
  relation stands in.
-#}
{% macro stored_columns(name) -%}
{%- set string, stamp, number, money = dbt.type_string(), dbt.type_timestamp(), billing.type_decimal(), billing.type_money() -%}
{%- set columns = {
    'finalized_invoices': [
        ('invoice_id', string), ('contract_id', string), ('invoice_type', string),
        ('period_starting_at', stamp), ('period_ending_before', stamp), ('line_count', dbt.type_bigint()),
        ('stored_at', stamp)],
    'finalized_invoice_line_items': [
        ('line_item_id', string), ('invoice_id', string), ('contract_id', string), ('customer_id', string),
        ('line_type', string), ('product_id', string), ('name', string), ('starting_at', stamp),
        ('ending_before', stamp), ('pricing_group_values', string), ('presentation_group_values', string),
        ('quantity', number), ('amount', money), ('adjusted_invoice_id', string), ('adjusted_line_type', string),
        ('commit_id', string), ('stored_at', stamp)],
    'finalized_balance_drawdowns': [
        ('balance_id', string), ('invoice_id', string), ('contract_id', string), ('drawn_amount', money)],
} -%}
{{ return(columns[name]) }}
{%- endmacro %}

{% macro stored(name) -%}
{%- set columns = billing.stored_columns(name) -%}
{%- set relation = none -%}
{%- if execute -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier=name) -%}
{%- endif -%}
{%- if relation is not none -%}
select {% for column, type in columns %}{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ relation }}
{%- else -%}
select {% for column, type in columns %}cast(null as {{ type }}) as {{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
from (select 1 as one) as no_store
where 1 = 0
{%- endif -%}
{%- endmacro %}
