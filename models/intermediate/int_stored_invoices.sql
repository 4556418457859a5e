{#-
  The invoices the store held when this build started (DECISIONLOG D29): final, never re-rated.
  Everything else is open: rated from the current events and catalog. An invoice whose lines were
  not all stored (a build stopped between the store models, or `--select +finalized_invoices`)
  counts as open, so this build rates it again and stores its lines.
-#}
with stored as (

    {{ billing.stored('finalized_invoices') }}

),

stored_lines as (

    select invoice_id, count(*) as stored_line_count
    from ({{ billing.stored('finalized_invoice_line_items') }}) as lines
    group by invoice_id

),

final as (

    select
        stored.invoice_id, stored.contract_id, stored.invoice_type, stored.period_starting_at,
        stored.period_ending_before, stored.stored_at
    from stored
    left join stored_lines
        on stored.invoice_id = stored_lines.invoice_id
    where coalesce(stored_lines.stored_line_count, 0) = stored.line_count

)

select * from final
