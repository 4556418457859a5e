{#-
  The invoice tables kept across builds by invoice version (DECISIONLOG D87): fct_invoices,
  fct_invoice_line_items, int_stored_invoice_line_items and fct_billed_quantities (D88, which also
  rates an invoice again when its late adjustments or catalog names changed:
  keep_billed_quantities_current below).

  A final invoice's rows come from the invoice store alone and never change while its version is
  current: each build rewrote them whole (half a million lines at 10,000 customers a year, the slowest
  nodes of a micro-batch). On DuckDB these models are incremental, per invoice:
    - before the model's query (pre-hook, in the model's transaction), its table keeps the rows of
      the invoices whose stored version in the table (invoice_version and stored_at, the real time the
      storing build started) is their current final one in the store and drops every other row:
      DRAFT rows (no version), a voided or superseded version, an invoice gone. stored_at is part of
      the key because ids and version numbers repeat when a store is replaced (dropped, restored);
    - the model's query then selects its rows for the invoices the table no longer holds
      (`invoice_not_held`), appended;
    - after it (post-hook), the table's comment records the model's code fingerprint. A table whose
      comment differs (another version of the project wrote it, or something else did) drops every
      row first, so the build rewrites it whole, as does `--full-refresh`.
  The delete and the insert commit together: a build killed between them changed nothing. Every
  other engine builds these models as tables.
-#}
{% macro invoice_mart_materialization() %}{{ return(adapter.dispatch('invoice_mart_materialization', 'billing')()) }}{% endmacro %}
{% macro default__invoice_mart_materialization() %}{{ return('table') }}{% endmacro %}
{% macro duckdb__invoice_mart_materialization() %}{{ return('incremental') }}{% endmacro %}

{#- The model's code fingerprint, as the event models' (its SQL, its upstream models', their macros'). -#}
{% macro invoice_mart_code_version() -%}
{{ return('billing ' ~ local_md5(billing.event_code_version(this.identifier))) }}
{%- endmacro %}

{#-
  Which final invoices a build writes again (D96): the table's comment records, after the code
  fingerprint, the invoice store it was last built from: '<fingerprint>; store <rows> <newest stored_at>'
  (epoch microseconds, `none` for an empty store). The store only grows by appends stamped with the
  storing build's real start time, so when it still has exactly <rows> rows stored at or before that
  time, the invoices whose final version can have changed are those with a record stored since
  (`delta`): a new final invoice, a new version, a void. Otherwise (`compare`: the store was dropped,
  restored or edited; no frontier recorded) every held row is compared with the store's current
  versions, and a table whose fingerprint differs is rewritten whole (`rewrite`).
  Returns {'path': ..., 'since': <epoch microseconds or 'none'>}.
-#}
{% macro invoice_mart_path(store) -%}
{%- set found = run_query(
    "select comment from duckdb_tables() where database_name = '" ~ this.database ~ "' and schema_name = '"
    ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "'") -%}
{%- set comment = (found.rows[0][0] if found.rows | length == 1 else none) or '' -%}
{%- set parts = comment.split('; store ') -%}
{%- if parts[0] != billing.invoice_mart_code_version() -%}{{ return({'path': 'rewrite'}) }}{%- endif -%}
{%- set frontier = parts[1].split(' ') if parts | length == 2 else [] -%}
{%- if frontier | length != 2 or not frontier[0].isdigit() or not (frontier[1].isdigit() or frontier[1] == 'none') -%}
    {{ return({'path': 'compare'}) }}
{%- endif -%}
{%- set held = run_query(
    "select count(*) from " ~ store ~ " where stored_at is null"
    ~ (" or stored_at <= make_timestamp(" ~ frontier[1] ~ ")" if frontier[1] != 'none' else '')) -%}
{%- if (held.rows[0][0] | string) != frontier[0] -%}{{ return({'path': 'compare'}) }}{%- endif -%}
{{ return({'path': 'delta', 'since': frontier[1]}) }}
{%- endmacro %}

{#- The build's temporary table of the final invoices whose rows the model writes (invoice_written). -#}
{% macro written_invoices() -%}
temp.main.{{ adapter.quote(this.identifier ~ '__billing_written') }}
{%- endmacro %}

{#-
  Pre-hook: keep the rows of invoices whose stored version is current in `store` (the invoice store
  as the model reads it; current_store_records), drop the others, and list in written_invoices the
  final invoices the model's query then writes. The columns are added first to a table built before
  it had them (fct_invoice_line_items before D87), whose rows are then dropped (no version): the table
  is rewritten once. On the `delta` path (invoice_mart_path) both cost the store's new records, not
  its history.
-#}
{% macro keep_current_invoice_versions(store) -%}
{%- if not execute or not is_incremental() -%}{{ return('') }}{%- endif -%}
{%- set decision = billing.invoice_mart_path(store) -%}
{%- set statements = [
    'alter table ' ~ this ~ ' add column if not exists invoice_version ' ~ dbt.type_bigint(),
    'alter table ' ~ this ~ ' add column if not exists stored_at ' ~ dbt.type_timestamp()] -%}
{%- set list_written = 'create or replace temporary table ' ~ billing.written_invoices()
    ~ ' as select distinct invoice_id from ' ~ store -%}
{%- if decision.path == 'delta' -%}
    {%- do statements.append(list_written ~ ' where stored_at is not null'
        ~ (' and stored_at > make_timestamp(' ~ decision.since ~ ')' if decision.since != 'none' else '')) -%}
    {%- do statements.append(
        'delete from ' ~ this ~ ' as held where held.invoice_version is null'
        ~ ' or held.invoice_id in (select invoice_id from ' ~ billing.written_invoices() ~ ')') -%}
{%- else -%}
{%- set delete -%}
delete from {{ this }} as held
where
    {{ 'true' if decision.path == 'rewrite' else 'false' }}
    or held.invoice_version is null
    or not exists (
        select 1
        from ({{ billing.current_store_records(store, 'invoice') }}) as current_versions
        where
            current_versions.invoice_id = held.invoice_id
            and current_versions.invoice_version = held.invoice_version
            and current_versions.stored_at = held.stored_at
    )
{%- endset -%}
    {%- do statements.append(delete) -%}
    {%- do statements.append(list_written ~ ' as records where not exists (select 1 from ' ~ this
        ~ ' as held where held.invoice_id = records.invoice_id)') -%}
{%- endif -%}
{{ billing.run_statements(statements) }}
{%- endmacro %}

{#- Post-hook: the fingerprint of the code that wrote the table and the store it read (invoice_mart_path). -#}
{% macro record_invoice_mart_code_version(store) -%}
{%- if not execute or config.get('materialized') != 'incremental' -%}{{ return('') }}{%- endif -%}
{%- set frontier = run_query("select count(*), epoch_us(max(stored_at)) from " ~ store).rows[0] -%}
{%- set since = 'none' if frontier[1] is none else frontier[1] | string -%}
{{ billing.run_statements([
    "comment on table " ~ this ~ " is '" ~ billing.invoice_mart_code_version() ~ "; store " ~ frontier[0] ~ " " ~ since ~ "'",
    "drop table if exists " ~ billing.written_invoices()]) }}
{%- endmacro %}

{#- The model's filter on a final invoice's rows in an incremental build: those of the invoices the
    pre-hook listed (written_invoices), in each branch of a union. -#}
{% macro invoice_written(invoice_id) -%}
{%- if is_incremental() -%}
{{ invoice_id }} in (select invoice_id from {{ billing.written_invoices() }})
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{#- The model's filter on an open invoice's rows: those of invoices its table does not hold. -#}
{% macro invoice_not_held(invoice_id) -%}
{%- if is_incremental() -%}
not exists (select 1 from {{ this }} as held where held.invoice_id = {{ invoice_id }})
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{#-
  Pre-hook of fct_billed_quantities, after keep_current_invoice_versions: a final invoice's rows also
  change when the late usage billed for it on later invoices changes (a DRAFT's adjustment re-rated, a
  new final one, one voided) or the catalog names its product or metric otherwise. The table keeps an
  invoice's rows only while, for each of its lines, the late_usage_adjustment lines now in
  `line_items` (how many, their quantities added up) are those its row folded in
  (late_adjustment_lines, late_adjusted_quantity), and its product's name, billable metric and
  aggregation are the catalog's (`products`, `billable_metrics`); every row of any other invoice is
  dropped, so the model's query rates that invoice again whole. Adjustment lines are few; the
  invoices whose adjustments are final and unchanged stay.
-#}
{% macro keep_billed_quantities_current(line_items, products, billable_metrics) -%}
{%- if not execute or not is_incremental() -%}{{ return('') }}{%- endif -%}
{%- set line_key = ['product_id', 'starting_at', 'pricing_group_values', 'presentation_group_values'] -%}
{%- set changed -%}
insert into {{ billing.written_invoices() }}
select changed.invoice_id from (
    select coalesce(adjusted_now.invoice_id, adjusted_then.invoice_id) as invoice_id
    from (
        select
            adjusted_invoice_id as invoice_id,
            {{ line_key | join(', ') }},
            count(*) as lines,
            sum(quantity) as quantity
        from {{ line_items }}
        where line_type = 'late_usage_adjustment' and adjusted_line_type = 'usage'
        group by adjusted_invoice_id, {{ line_key | join(', ') }}
    ) as adjusted_now
    full outer join (
        select
            invoice_id,
            {{ line_key | join(', ') }},
            late_adjustment_lines as lines,
            late_adjusted_quantity as quantity
        from {{ this }}
        where late_adjustment_lines > 0
    ) as adjusted_then
        on
            adjusted_now.invoice_id = adjusted_then.invoice_id
            {%- for column in line_key %}
            and adjusted_now.{{ column }} is not distinct from adjusted_then.{{ column }}
            {%- endfor %}
    where
        adjusted_now.lines is distinct from adjusted_then.lines
        or adjusted_now.quantity is distinct from adjusted_then.quantity
    union all
    select named.invoice_id
    from {{ this }} as named
    where not exists (
        select 1
        from {{ products }} as products
        left join {{ billable_metrics }} as billable_metrics
            on products.billable_metric = billable_metrics.billable_metric
        where
            products.product_id = named.product_id
            and products.name is not distinct from named.product_name
            and products.billable_metric is not distinct from named.billable_metric
            and billable_metrics.aggregation is not distinct from named.aggregation
    )
) as changed
where changed.invoice_id is not null
except
select invoice_id from {{ billing.written_invoices() }}
{%- endset -%}
{{ billing.run_statements([
    'alter table ' ~ this ~ ' add column if not exists late_adjustment_lines ' ~ dbt.type_bigint(), changed,
    'delete from ' ~ this ~ ' as held where held.invoice_id in (select invoice_id from ' ~ billing.written_invoices() ~ ')']) }}
{%- endmacro %}
