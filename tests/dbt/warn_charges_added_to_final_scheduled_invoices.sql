{{ config(severity='warn') }}
{#-
  A scheduled charge, ADVANCE fee or commit purchase added to the catalog for an instant whose
  SCHEDULED invoice is already final is not billed there (final invoices never change); this
  warning lists it so finance can void and regenerate that invoice (`billing invoices void`).
-#}
select
    charges.line_item_id,
    charges.invoice_id,
    charges.line_type,
    charges.amount
from {{ ref('int_scheduled_invoice_charges') }} as charges
inner join {{ ref('finalized_invoices') }} as final_invoices
    on charges.invoice_id = final_invoices.invoice_id
left join {{ ref('finalized_invoice_line_items') }} as stored_lines
    on charges.line_item_id = stored_lines.line_item_id
where stored_lines.line_item_id is null
