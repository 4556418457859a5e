{#-
  Every invoice line (DATA_CONTRACT outputs): the lines of final invoices as stored
  (finalized_invoice_line_items) and those of open invoices as rated by this build. invoice_version
  and stored_at are the line's invoice's stored version and when it was stored (null on a DRAFT).
  On DuckDB the table keeps the lines of final invoices whose version has not changed and rewrites
  the others (macros/invoice_marts.sql).
-#}
{{ config(
    materialized=billing.invoice_mart_materialization(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ billing.keep_current_invoice_versions(ref('invoice_store')) }}",
    post_hook="{{ billing.record_invoice_mart_code_version(ref('invoice_store')) }}",
) }}
with stored as (

    select * from {{ ref('finalized_invoice_line_items') }}

),

stored_invoices as (

    select invoice_id from {{ ref('finalized_invoices') }}

),

open_lines as (

    select line_items.*
    from {{ ref('int_open_invoice_line_items') }} as line_items
    left join stored_invoices
        on line_items.invoice_id = stored_invoices.invoice_id
    where stored_invoices.invoice_id is null

),

unioned as (

    select
        {{ billing.line_item_columns() }},
        invoice_version,
        stored_at
    from stored
    where {{ billing.invoice_written('stored.invoice_id') }}

    union all

    select
        {{ billing.line_item_columns() }},
        cast(null as {{ dbt.type_bigint() }}) as invoice_version,
        cast(null as {{ dbt.type_timestamp() }}) as stored_at
    from open_lines
    where {{ billing.invoice_not_held('open_lines.invoice_id') }}

),

final as (

    select * from unioned

)

select * from final
