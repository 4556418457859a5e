{#-
  Late usage, placed (DATA_CONTRACT semantics 10, DECISIONLOG D30, D31): each re-rated difference
  (int_late_usage_differences) is a `late_usage_adjustment` line on the contract's next open USAGE
  invoice after the adjusted period (the earliest started period not yet final that starts at or after
  its end: after a void, never the regenerated earlier invoice). The adjustment lines are charges that
  balances may draw like any other (their service period is the original line's).
  Without an open USAGE invoice (a contract that has ended and is all final) the adjustment waits here
  with invoice_id empty: finance voids and regenerates the invoice (`billing invoices void`), nothing
  is lost. Adjustments taken back from a voided invoice (int_late_usage_taken_back) are lines of it.
-#}
with differences as (

    select * from {{ ref('int_late_usage_differences') }}

),

taken_back as (

    select * from {{ ref('int_late_usage_taken_back') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

invoice_states as (

    select * from {{ ref('int_invoice_states') }}

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
    inner join invoice_states
        on open_periods.invoice_id = invoice_states.invoice_id
    where not invoice_states.is_final
    group by adjusted.invoice_id

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
        taken_back.invoice_id,
        periods.period_starting_at,
        taken_back.invoice_id as adjusted_invoice_id,
        taken_back.contract_id,
        taken_back.customer_id,
        taken_back.adjusted_line_type,
        taken_back.product_id,
        taken_back.name,
        taken_back.starting_at,
        taken_back.ending_before,
        taken_back.pricing_group_values,
        taken_back.presentation_group_values,
        taken_back.quantity,
        taken_back.amount
    from taken_back
    inner join periods
        on taken_back.invoice_id = periods.invoice_id

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
