{#-
  The columns of an invoice line (fct_invoice_line_items, DATA_CONTRACT outputs), in their order,
  with their types: one list, read by every model that builds lines and by the invoice store
  (invoice_store_columns('line')).
-#}
{% macro line_item_column_types() -%}
{%- set string, stamp, number, money = dbt.type_string(), dbt.type_timestamp(), billing.type_decimal(), billing.type_money() -%}
{{ return([
    ('line_item_id', string), ('invoice_id', string), ('contract_id', string), ('customer_id', string),
    ('line_type', string), ('product_id', string), ('name', string), ('starting_at', stamp),
    ('ending_before', stamp), ('pricing_group_values', string), ('presentation_group_values', string),
    ('quantity', number), ('unit_price', number), ('amount', money), ('commit_id', string),
    ('credit_id', string), ('scheduled_charge_id', string), ('adjusted_invoice_id', string),
    ('adjusted_line_type', string)]) }}
{%- endmacro %}

{#-
  A select list of the line columns, one per line, in their order:
    through  the last column wanted ('amount': a charge before its balance and adjustment columns);
    nulls    columns the source does not have, selected as typed nulls;
    exprs    column -> expression, for a column the source has under another name or computes.
  Example: line_item_columns(through='amount', nulls=['pricing_group_values'],
                             exprs={'starting_at': 'service_starting_at'})
  renders `line_item_id, ..., service_starting_at as starting_at, ...,
  cast(null as varchar) as pricing_group_values, ..., amount`, each on its own line.
-#}
{% macro line_item_columns(through=none, nulls=[], exprs={}) -%}
{%- set selected = [] -%}
{%- set state = namespace(done=false) -%}
{%- for name, type in billing.line_item_column_types() if not state.done -%}
    {%- if name in nulls -%}
        {%- do selected.append('cast(null as ' ~ type ~ ') as ' ~ name) -%}
    {%- elif name in exprs -%}
        {%- do selected.append(exprs[name] ~ ' as ' ~ name) -%}
    {%- else -%}
        {%- do selected.append(name) -%}
    {%- endif -%}
    {%- set state.done = name == through -%}
{%- endfor -%}
{{ selected | join(',\n        ') }}
{%- endmacro %}

{#-
  The columns of an invoice (fct_invoices, DATA_CONTRACT outputs) in their order, with their types:
  one list, read by fct_invoices and by the invoice store (invoice_store_columns('invoice')).
-#}
{% macro invoice_column_types() -%}
{%- set string, stamp, money, bigint = dbt.type_string(), dbt.type_timestamp(), billing.type_money(), dbt.type_bigint() -%}
{{ return([
    ('invoice_id', string), ('contract_id', string), ('customer_id', string), ('invoice_type', string),
    ('status', string), ('currency', string), ('period_starting_at', stamp), ('period_ending_before', stamp),
    ('issued_at', stamp), ('due_at', stamp), ('subtotal', money), ('credits_applied', money),
    ('commits_applied', money), ('total', money), ('line_count', bigint), ('finalizes_at', stamp),
    ('contract_name', string)]) }}
{%- endmacro %}

{#- A select list of the invoice columns, one per line, in their order. Example: invoice_columns() -#}
{% macro invoice_columns() -%}
{{ billing.invoice_column_types() | map(attribute=0) | join(',\n        ') }}
{%- endmacro %}
