{{ config(severity='warn') }}
{#-
  Usage that is not billed as it stands (a negative period quantity, an amount beyond what exact
  arithmetic carries) holds its invoice as a DRAFT; this warning names the customer, contract,
  product and period on every build until the usage is corrected. DECISIONLOG D57, D58.
-#}
select
    customer_id,
    contract_id,
    product_id,
    period_starting_at,
    problem,
    metered_quantity
from {{ ref('int_usage_problems') }}
