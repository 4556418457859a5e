{#-
  What each balance drew on the invoices stored by this build (append-only; DECISIONLOG D29),
  postpaid consumption included. Later drawdowns start from what these left.
-#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, on_schema_change='fail') }}

with stored_now as (

    select invoice_id, stored_at
    from {{ ref('finalized_invoices') }}
    where stored_by_invocation_id = '{{ invocation_id }}'

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
