{#-
  What each balance drew on the invoices that were final when this build started: open invoices
  draw from what these left (int_balance_eligible_charges) and postpaid commits count them
  (int_commit_true_ups).
-#}
with final as (

    {{ billing.current_store_records(source('billing_state', 'invoice_store'), 'drawdown') }}

)

select * from final
