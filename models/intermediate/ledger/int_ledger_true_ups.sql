{#-
  TRUEUP entries of the balance ledger (DECISIONLOG D28): the shortfall a postpaid commit bills, on its
  true-up invoice, at the invoice's issued_at (is_final: the invoice is FINALIZED).
-#}
with invoices as (

    select * from {{ ref('fct_invoices') }}

),

true_up_lines as (

    select
        commit_id as balance_id,
        invoice_id,
        amount
    from {{ ref('fct_invoice_line_items') }}
    where line_type = 'commit_true_up'

),

final as (

    select
        true_up_lines.balance_id,
        'TRUEUP' as entry_type,
        true_up_lines.invoice_id,
        invoices.issued_at as effective_at,
        cast(-true_up_lines.amount as {{ billing.type_money() }}) as amount,
        invoices.status = 'FINALIZED' as is_final
    from true_up_lines
    inner join invoices
        on true_up_lines.invoice_id = invoices.invoice_id

)

select * from final
