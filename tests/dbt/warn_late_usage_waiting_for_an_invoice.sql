{{ config(severity='warn') }}
{#-
  Late usage for a contract with no open USAGE invoice (ended, all final) waits in
  int_late_usage_adjustments; this warning makes it visible until finance voids and regenerates
  the invoice (`billing invoices void`). DECISIONLOG D30.
-#}
select
    line_item_id,
    contract_id,
    adjusted_invoice_id,
    amount
from {{ ref('int_late_usage_adjustments') }}
where invoice_id is null
