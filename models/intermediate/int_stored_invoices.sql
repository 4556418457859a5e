{#-
  The invoices the store held when this build started (DECISIONLOG D29): final, never re-rated.
  Everything else is open: rated from the current events and catalog.
-#}
with stored as (

    {{ billing.stored('finalized_invoices') }}

),

final as (

    select invoice_id, contract_id, invoice_type, period_starting_at, period_ending_before, stored_at
    from stored

)

select * from final
