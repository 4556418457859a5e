{#-
  Late usage billed for an invoice that is open again (DECISIONLOG D31). A voided invoice is re-rated in
  full as it is regenerated; the late_usage_adjustment lines already billed for it on other final
  invoices are taken back on it (one negative line per charge line), so nothing is billed twice.
-#}
with stored_lines as (

    select * from {{ ref('int_stored_invoice_line_items') }}

),

invoice_states as (

    select * from {{ ref('int_invoice_states') }}

),

final as (

    select
        stored_lines.adjusted_invoice_id as invoice_id,
        stored_lines.contract_id,
        stored_lines.customer_id,
        stored_lines.adjusted_line_type,
        stored_lines.product_id,
        max(stored_lines.name) as name,
        stored_lines.starting_at,
        max(stored_lines.ending_before) as ending_before,
        stored_lines.pricing_group_values,
        stored_lines.presentation_group_values,
        -sum(stored_lines.quantity) as quantity,
        -sum(stored_lines.amount) as amount
    from stored_lines
    left join invoice_states
        on stored_lines.adjusted_invoice_id = invoice_states.invoice_id
    where
        stored_lines.line_type = 'late_usage_adjustment'
        and not coalesce(invoice_states.is_final, false)
    group by
        stored_lines.adjusted_invoice_id, stored_lines.contract_id, stored_lines.customer_id,
        stored_lines.adjusted_line_type, stored_lines.product_id, stored_lines.starting_at,
        stored_lines.pricing_group_values, stored_lines.presentation_group_values
    having sum(stored_lines.amount) <> 0

)

select * from final
