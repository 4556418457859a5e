{#- The lines of the invoices stored in finalized_invoices, as rated when stored (append-only; DECISIONLOG D29). -#}
-- written after finalized_balance_drawdowns: an invoice counts as stored once its lines are
-- depends_on: {{ ref('finalized_balance_drawdowns') }}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, on_schema_change='fail') }}

with stored_now as (

    {#- invoices stored by this build, and any stored earlier whose lines never made it (a build
        stopped between the store models): they were open again for this build (int_stored_invoices) -#}
    select finalized.invoice_id, finalized.stored_at
    from {{ ref('finalized_invoices') }} as finalized
    inner join {{ ref('int_open_invoices') }} as rated
        on finalized.invoice_id = rated.invoice_id
    {% if is_incremental() %}
    where finalized.invoice_id not in (select invoice_id from {{ this }})
    {% endif %}

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
