{#-
  The invoices that were final when this build started (DECISIONLOG D29, D43): their current
  version in the invoice store, never re-rated. Everything else is open: rated from the current
  events and catalog. The store is written in one insert per build, so a stored invoice always has
  all its lines and drawdowns.
-#}
with stored as (

    {{ billing.current_store_records(source('billing_state', 'invoice_store'), 'invoice') }}

),

final as (

    select
        invoice_id,
        invoice_version,
        contract_id,
        invoice_type,
        period_starting_at,
        period_ending_before,
        stored_at,
        events_loaded_through
    from stored

)

select * from final
