{#-
  Late usage, re-rated (DATA_CONTRACT semantics 10, DECISIONLOG D30). A stored (final) USAGE invoice
  whose period received an event loaded after the invoice was stored is re-rated from all its events;
  for each charge line (product, line type, service start, pricing and presentation groups) the
  difference between the re-rated amount and what was billed for it (the finalized line plus earlier
  adjustments) is what a `late_usage_adjustment` line bills (int_late_usage_adjustments places it).
  Re-rating the whole period keeps tiers right. A period with usage problems waits until they are
  gone (int_usage_problems, D57).
-#}
with stored_lines as (

    select * from {{ ref('int_stored_invoice_line_items') }}

),

stored_charge_lines as (

    {#- one pass over the stored lines: a finalized charge line bills its own invoice's charge, an
        earlier adjustment the charge of the invoice it adjusts -#}
    select
        *,
        case
            when line_type = 'late_usage_adjustment' then adjusted_invoice_id else invoice_id
        end as charge_invoice_id,
        case
            when line_type = 'late_usage_adjustment' then adjusted_line_type else line_type
        end as charge_line_type
    from stored_lines
    where line_type in ('usage', 'composite', 'subscription', 'late_usage_adjustment')

),

rated_charges as (

    select * from {{ ref('int_usage_invoice_charges') }}

),

late_invoices as (

    select
        invoice_id,
        contract_id
    from {{ ref('int_periods_to_rate') }}
    where
        has_late_usage
        and invoice_id not in (select problems.invoice_id from {{ ref('int_usage_problems') }} as problems)

),

billed_and_rerated as (

    {#- + the re-rated lines, - the finalized lines, - the adjustments already billed for them -#}
    select
        rated_charges.invoice_id as adjusted_invoice_id,
        rated_charges.contract_id,
        rated_charges.customer_id,
        rated_charges.line_type as adjusted_line_type,
        rated_charges.product_id,
        rated_charges.name,
        rated_charges.starting_at,
        rated_charges.ending_before,
        rated_charges.pricing_group_values,
        rated_charges.presentation_group_values,
        rated_charges.quantity,
        rated_charges.amount
    from rated_charges
    inner join late_invoices
        on rated_charges.invoice_id = late_invoices.invoice_id

    union all

    select
        stored_charge_lines.charge_invoice_id,
        stored_charge_lines.contract_id,
        stored_charge_lines.customer_id,
        stored_charge_lines.charge_line_type,
        stored_charge_lines.product_id,
        stored_charge_lines.name,
        stored_charge_lines.starting_at,
        stored_charge_lines.ending_before,
        stored_charge_lines.pricing_group_values,
        stored_charge_lines.presentation_group_values,
        -stored_charge_lines.quantity as quantity,
        -stored_charge_lines.amount as amount
    from stored_charge_lines
    inner join late_invoices
        on stored_charge_lines.charge_invoice_id = late_invoices.invoice_id

),

final as (

    {#- per charge line: product, original line type, service start, groups (a line's end may move
        with a catalog edit, so it is not part of the key) -#}
    select
        adjusted_invoice_id,
        contract_id,
        customer_id,
        adjusted_line_type,
        product_id,
        max(name) as name,
        starting_at,
        max(ending_before) as ending_before,
        pricing_group_values,
        presentation_group_values,
        sum(quantity) as quantity,
        sum(amount) as amount
    from billed_and_rerated
    group by
        adjusted_invoice_id, contract_id, customer_id, adjusted_line_type, product_id,
        starting_at, pricing_group_values, presentation_group_values
    having sum(amount) <> 0

)

select * from final
