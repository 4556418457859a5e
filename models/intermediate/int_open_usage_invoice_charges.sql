{#-
  The charge lines of open USAGE invoices (not final when the build started; DECISIONLOG D29):
  their usage, composite and ARREARS subscription lines, and the late_usage_adjustment lines placed
  on them. Balances draw these (int_balance_eligible_charges); final invoices keep what they had.
-#}
with rated_charges as (

    select * from {{ ref('int_usage_invoice_charges') }}

),

invoice_states as (

    select * from {{ ref('int_invoice_states') }}

),

late_adjustments as (

    select * from {{ ref('int_late_usage_adjustments') }}
    where invoice_id is not null

),

open_charges as (

    select
        rated_charges.*,
        cast(null as {{ dbt.type_string() }}) as adjusted_invoice_id,
        cast(null as {{ dbt.type_string() }}) as adjusted_line_type
    from rated_charges
    inner join invoice_states
        on rated_charges.invoice_id = invoice_states.invoice_id
    where not invoice_states.is_final

),

final as (

    select
        {{ billing.line_item_columns(through='amount') }},
        period_starting_at,
        adjusted_invoice_id,
        adjusted_line_type
    from open_charges

    union all

    select
        {{ billing.line_item_columns(through='amount') }},
        period_starting_at,
        adjusted_invoice_id,
        adjusted_line_type
    from late_adjustments

)

select * from final
