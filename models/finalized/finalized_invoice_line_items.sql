{#- The lines of the invoices stored in finalized_invoices by this build (append-only; DECISIONLOG D29). -#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, on_schema_change='fail') }}

with stored_now as (

    select invoice_id, stored_at
    from {{ ref('finalized_invoices') }}
    where stored_by_invocation_id = '{{ invocation_id }}'

),

final as (

    select
        line_items.*,
        stored_now.stored_at
    from {{ ref('int_open_invoice_line_items') }} as line_items
    inner join stored_now
        on line_items.invoice_id = stored_now.invoice_id

)

select * from final
