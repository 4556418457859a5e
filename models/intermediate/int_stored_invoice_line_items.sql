{#-
  The lines of the invoices that were final when this build started (int_stored_invoices), read
  from the store once for every model that needs what final invoices billed (late usage, true-ups,
  when a period was last billed). On DuckDB the table keeps the lines of invoices whose current
  version it holds and reads the others from the store (macros/invoice_marts.sql).
-#}
{{ config(
    materialized=billing.invoice_mart_materialization(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ billing.keep_current_invoice_versions(source('billing_state', 'invoice_store')) }}",
    post_hook="{{ billing.record_invoice_mart_code_version(source('billing_state', 'invoice_store')) }}",
) }}
with stored as (

    {{ billing.current_store_records(source('billing_state', 'invoice_store'), 'line') }}

),

final as (

    select * from stored
    where {{ billing.invoice_written('stored.invoice_id') }}

)

select * from final
