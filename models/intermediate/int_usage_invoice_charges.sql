{#-
  The charge lines of USAGE invoices (DATA_CONTRACT semantics 9): usage, composite and ARREARS
  subscription lines, in the shape of fct_invoice_line_items, with the invoice's period start.
  These are the charges that credits and commits draw down (int_balance_eligible_charges).
-#}
with periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

usage_lines as (

    select
        {{ billing.line_item_columns(through='amount') }}
    from {{ ref('int_usage_line_items') }}

),

composite_lines as (

    select
        {{ billing.line_item_columns(
            through='amount', nulls=['pricing_group_values', 'presentation_group_values']
        ) }}
    from {{ ref('int_composite_line_items') }}

),

subscription_lines as (

    select
        {{ billing.line_item_columns(
            through='amount',
            nulls=['pricing_group_values', 'presentation_group_values'],
            exprs={
                'line_type': "'subscription'",
                'starting_at': 'service_starting_at',
                'ending_before': 'service_ending_before'
            }
        ) }}
    from {{ ref('int_subscription_charges') }}
    where invoice_type = 'USAGE'

),

unioned as (

    select * from usage_lines
    union all
    select * from composite_lines
    union all
    select * from subscription_lines

),

final as (

    select
        unioned.*,
        periods.period_starting_at
    from unioned
    inner join periods
        on unioned.invoice_id = periods.invoice_id

)

select * from final
