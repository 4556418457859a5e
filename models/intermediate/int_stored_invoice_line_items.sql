{#-
  The lines of the invoices that were final when this build started (int_stored_invoices), read
  from the store once for every model that needs what final invoices billed (late usage, true-ups,
  when a period was last billed).
-#}
with final as (

    {{ billing.current_store_records(source('billing_state', 'invoice_store'), 'line') }}

)

select * from final
