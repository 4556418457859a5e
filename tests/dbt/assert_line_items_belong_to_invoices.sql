{#- Every line item is on an invoice of its own contract. -#}
select
    line_items.line_item_id,
    line_items.invoice_id
from {{ ref('fct_invoice_line_items') }} as line_items
left join {{ ref('fct_invoices') }} as invoices
    on
        line_items.invoice_id = invoices.invoice_id
        and line_items.contract_id = invoices.contract_id
where invoices.invoice_id is null
