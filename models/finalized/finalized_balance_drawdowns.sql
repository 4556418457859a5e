{#-
  What each balance drew on the invoices stored by this build (append-only; DECISIONLOG D29),
  postpaid consumption included. Later drawdowns start from what these left.
-#}
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

drawdowns as (

    select balance_id, invoice_id, contract_id, sum(drawn_amount) as drawn_amount
    from {{ ref('int_balance_drawdowns') }}
    group by balance_id, invoice_id, contract_id

),

final as (

    select
        drawdowns.balance_id,
        drawdowns.invoice_id,
        drawdowns.contract_id,
        cast(drawdowns.drawn_amount as {{ billing.type_money() }}) as drawn_amount,
        stored_now.stored_at
    from drawdowns
    inner join stored_now
        on drawdowns.invoice_id = stored_now.invoice_id

)

select * from final
