{#-
  What each balance drew on the invoices that were final when this build started: open invoices
  draw from what these left (int_balance_eligible_charges) and postpaid commits count them
  (int_commit_true_ups).
-#}
with stored_drawdowns as (

    {{ billing.stored('finalized_balance_drawdowns') }}

),

final as (

    select stored_drawdowns.*
    from stored_drawdowns
    inner join {{ ref('int_stored_invoices') }} as stored_invoices
        on stored_drawdowns.invoice_id = stored_invoices.invoice_id

)

select * from final
