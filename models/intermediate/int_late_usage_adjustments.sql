{#-
  Late usage (DATA_CONTRACT semantics 10, DECISIONLOG D30). A stored (final) USAGE invoice whose
  period received an event loaded after the invoice was stored is re-rated from all its events;
  for each charge line (product, line type, service start, pricing and presentation groups) the
  difference between the re-rated amount and what was billed for it (the finalized line plus
  earlier adjustments) is a `late_usage_adjustment` line on the contract's next open USAGE invoice
  after the adjusted period (the earliest started period not yet final that starts at or after its
  end: after a void, never the regenerated earlier invoice). Re-rating the whole period keeps tiers right; the
  adjustment lines are charges that balances may draw like any other (their service period is the
  original line's).
  Without an open USAGE invoice (a contract that has ended and is all final) the adjustment waits
  here with invoice_id empty: finance voids and regenerates the invoice (`billing invoices void`),
  nothing is lost.
  A voided invoice is open again and re-rated in full; adjustments already billed for it on other
  final invoices are taken back on it (negative late_usage_adjustment lines), so nothing is
  billed twice (DECISIONLOG D31).
-#}
with stored_lines as (

    select * from {{ ref('int_stored_invoice_line_items') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

rated_charges as (

    select * from {{ ref('int_usage_invoice_charges') }}

),

late_invoices as (

    {#- a re-rated period with usage problems waits until they are gone (int_usage_problems, D57) -#}
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
        stored_lines.invoice_id,
        stored_lines.contract_id,
        stored_lines.customer_id,
        stored_lines.line_type,
        stored_lines.product_id,
        stored_lines.name,
        stored_lines.starting_at,
        stored_lines.ending_before,
        stored_lines.pricing_group_values,
        stored_lines.presentation_group_values,
        -stored_lines.quantity as quantity,
        -stored_lines.amount as amount
    from stored_lines
    inner join late_invoices
        on stored_lines.invoice_id = late_invoices.invoice_id
    where stored_lines.line_type in ('usage', 'composite', 'subscription')

    union all

    select
        stored_lines.adjusted_invoice_id,
        stored_lines.contract_id,
        stored_lines.customer_id,
        stored_lines.adjusted_line_type,
        stored_lines.product_id,
        stored_lines.name,
        stored_lines.starting_at,
        stored_lines.ending_before,
        stored_lines.pricing_group_values,
        stored_lines.presentation_group_values,
        -stored_lines.quantity as quantity,
        -stored_lines.amount as amount
    from stored_lines
    inner join late_invoices
        on stored_lines.adjusted_invoice_id = late_invoices.invoice_id
    where stored_lines.line_type = 'late_usage_adjustment'

),

differences as (

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

),

next_open_invoices as (

    {#- per adjusted invoice: the contract's earliest open USAGE invoice that starts at or after the
        adjusted period ends (after a void, never the regenerated earlier invoice) -#}
    select
        adjusted.invoice_id as adjusted_invoice_id,
        min(open_periods.period_starting_at) as period_starting_at
    from (select distinct adjusted_invoice_id from differences) as adjustments
    inner join periods as adjusted
        on adjustments.adjusted_invoice_id = adjusted.invoice_id
    inner join periods as open_periods
        on
            adjusted.contract_id = open_periods.contract_id
            and adjusted.period_ending_before <= open_periods.period_starting_at
    inner join {{ ref('int_invoice_states') }} as invoice_states
        on open_periods.invoice_id = invoice_states.invoice_id
    where not invoice_states.is_final
    group by adjusted.invoice_id

),

billed_elsewhere as (

    {#- adjustments billed for an invoice that is open again (voided, being regenerated) -#}
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
    left join {{ ref('int_invoice_states') }} as invoice_states
        on stored_lines.adjusted_invoice_id = invoice_states.invoice_id
    where
        stored_lines.line_type = 'late_usage_adjustment'
        and not coalesce(invoice_states.is_final, false)
    group by
        stored_lines.adjusted_invoice_id, stored_lines.contract_id, stored_lines.customer_id,
        stored_lines.adjusted_line_type, stored_lines.product_id, stored_lines.starting_at,
        stored_lines.pricing_group_values, stored_lines.presentation_group_values
    having sum(stored_lines.amount) <> 0

),

placed as (

    select
        target_periods.invoice_id,
        next_open_invoices.period_starting_at,
        differences.adjusted_invoice_id,
        differences.contract_id,
        differences.customer_id,
        differences.adjusted_line_type,
        differences.product_id,
        differences.name,
        differences.starting_at,
        differences.ending_before,
        differences.pricing_group_values,
        differences.presentation_group_values,
        differences.quantity,
        differences.amount
    from differences
    left join next_open_invoices
        on differences.adjusted_invoice_id = next_open_invoices.adjusted_invoice_id
    left join periods as target_periods
        on
            differences.contract_id = target_periods.contract_id
            and next_open_invoices.period_starting_at = target_periods.period_starting_at

    union all

    select
        billed_elsewhere.invoice_id,
        periods.period_starting_at,
        billed_elsewhere.invoice_id as adjusted_invoice_id,
        billed_elsewhere.contract_id,
        billed_elsewhere.customer_id,
        billed_elsewhere.adjusted_line_type,
        billed_elsewhere.product_id,
        billed_elsewhere.name,
        billed_elsewhere.starting_at,
        billed_elsewhere.ending_before,
        billed_elsewhere.pricing_group_values,
        billed_elsewhere.presentation_group_values,
        billed_elsewhere.quantity,
        billed_elsewhere.amount
    from billed_elsewhere
    inner join periods
        on billed_elsewhere.invoice_id = periods.invoice_id

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "coalesce(invoice_id, '')", "'|late|'", "adjusted_invoice_id",
            "'|'", "adjusted_line_type", "'|'", "coalesce(product_id, '')",
            "'|'", billing.timestamp_key('starting_at'),
            "'|'", "coalesce(pricing_group_values, '')",
            "'|'", "coalesce(presentation_group_values, '')"])) }} as line_item_id,
        invoice_id,
        contract_id,
        customer_id,
        'late_usage_adjustment' as line_type,
        product_id,
        name,
        starting_at,
        ending_before,
        pricing_group_values,
        presentation_group_values,
        cast(quantity as {{ billing.type_decimal() }}) as quantity,
        cast(null as {{ billing.type_decimal() }}) as unit_price,
        cast(amount as {{ billing.type_money() }}) as amount,
        period_starting_at,
        adjusted_invoice_id,
        adjusted_line_type
    from placed

)

select * from final
