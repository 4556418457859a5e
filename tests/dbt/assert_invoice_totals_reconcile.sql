{#- invoice total = sum of its lines = subtotal - credits_applied - commits_applied (jaffle-shop style). -#}
with invoices as (

    select * from {{ ref('fct_invoices') }}

),

line_sums as (

    select
        invoice_id,
        sum(amount) as line_total
    from {{ ref('fct_invoice_line_items') }}
    group by invoice_id

)

select
    invoices.invoice_id,
    invoices.subtotal,
    invoices.credits_applied,
    invoices.commits_applied,
    invoices.total,
    line_sums.line_total
from invoices
left join line_sums
    on invoices.invoice_id = line_sums.invoice_id
where
    invoices.total <> coalesce(line_sums.line_total, 0)
    or invoices.total <> invoices.subtotal - invoices.credits_applied - invoices.commits_applied
