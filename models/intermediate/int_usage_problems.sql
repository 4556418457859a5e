{#-
  Usage lines that are not billed as they stand (DECISIONLOG D57, D58), one row per line, naming
  the customer, contract, product and billing period. Their invoice is held: it stays a DRAFT past
  its finalization time (int_open_invoices) and, for a final period re-rated for late usage, its
  adjustment waits (int_late_usage_adjustments), until the usage is corrected. Other contracts
  are billed as usual. tests/dbt/warn_usage_problems.sql lists them on every build.
-#}
with rated_lines as (

    select * from {{ ref('int_usage_rated_lines') }}

),

final as (

    select
        invoice_id,
        customer_id,
        contract_id,
        product_id,
        name,
        period_starting_at,
        period_ending_before,
        starting_at,
        ending_before,
        pricing_group_values,
        presentation_group_values,
        metered_quantity,
        usage_problem as problem,
        case usage_problem
            when 'negative_quantity'
                then
                    'the metered quantity is below zero: priced 0.00, the invoice held until usage corrects it'
            when 'quantity_out_of_range'
                then
                    'the converted quantity is not below 10^17 and cannot be carried exactly: the invoice is held'
            when 'amount_out_of_range' then
                'quantity x price is not below 10^17 and cannot be carried exactly: the invoice is held'
        end as problem_detail
    from rated_lines
    where usage_problem is not null

)

select * from final
