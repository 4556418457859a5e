{#-
  The lines of the invoices that were final when this build started (int_stored_invoices), read
  from the store once for every model that needs what final invoices billed (late usage, true-ups,
  when a period was last billed).
-#}
with stored_lines as (

    {{ billing.stored('finalized_invoice_line_items') }}

),

final as (

    select stored_lines.*
    from stored_lines
    inner join {{ ref('int_stored_invoices') }} as stored_invoices
        on stored_lines.invoice_id = stored_invoices.invoice_id

)

select * from final
