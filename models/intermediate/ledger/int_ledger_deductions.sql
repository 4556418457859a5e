{#-
  INVOICE_DEDUCTION entries of the balance ledger (DECISIONLOG D28): what each balance drew on each
  invoice, at the invoice's issued_at (its period end); final invoices as stored, drafts as rated now
  (is_final: the invoice is FINALIZED).
-#}
with invoices as (

    select * from {{ ref('fct_invoices') }}

),

stored_drawdowns as (

    select * from {{ ref('finalized_balance_drawdowns') }}

),

open_drawdowns as (

    select
        drawdowns.balance_id,
        drawdowns.invoice_id,
        drawdowns.drawn_amount
    from {{ ref('int_balance_drawdowns') }} as drawdowns
    left join {{ ref('finalized_invoices') }} as final_invoices
        on drawdowns.invoice_id = final_invoices.invoice_id
    where final_invoices.invoice_id is null

),

drawdowns as (

    select
        balance_id,
        invoice_id,
        drawn_amount
    from stored_drawdowns
    union all
    select
        balance_id,
        invoice_id,
        drawn_amount
    from open_drawdowns

),

final as (

    select
        drawdowns.balance_id,
        'INVOICE_DEDUCTION' as entry_type,
        drawdowns.invoice_id,
        invoices.issued_at as effective_at,
        cast(-sum(drawdowns.drawn_amount) as {{ billing.type_money() }}) as amount,
        invoices.status = 'FINALIZED' as is_final
    from drawdowns
    inner join invoices
        on drawdowns.invoice_id = invoices.invoice_id
    group by drawdowns.balance_id, drawdowns.invoice_id, invoices.issued_at, invoices.status

)

select * from final
