{#-
  The lines of open invoices (not final when the build started; DECISIONLOG D29), rated now:
    USAGE invoices: usage, composite and ARREARS subscription lines; late_usage_adjustment lines;
      applied_credit and applied_commit lines (negative); commit_true_up lines;
    SCHEDULED invoices: scheduled charges, ADVANCE subscription fees and commit_purchase lines.
-#}
with invoice_states as (

    select * from {{ ref('int_invoice_states') }}

),

usage_invoice_charges as (

    select * from {{ ref('int_open_usage_invoice_charges') }}

),

scheduled_invoice_charges as (

    select charges.*
    from {{ ref('int_scheduled_invoice_charges') }} as charges
    inner join invoice_states
        on charges.invoice_id = invoice_states.invoice_id
    where not invoice_states.is_final

),

applied_balances as (

    select * from {{ ref('int_applied_balance_line_items') }}

),

commit_true_ups as (

    select * from {{ ref('int_commit_true_ups') }}

),

unioned as (

    select
        {{ billing.line_item_columns(
            nulls=['commit_id', 'credit_id', 'scheduled_charge_id']
        ) }}
    from usage_invoice_charges

    union all

    select
        {{ billing.line_item_columns(
            nulls=['pricing_group_values', 'presentation_group_values', 'credit_id',
                   'adjusted_invoice_id', 'adjusted_line_type']
        ) }}
    from scheduled_invoice_charges

    union all

    select
        {{ billing.line_item_columns(
            nulls=['pricing_group_values', 'presentation_group_values', 'scheduled_charge_id',
                   'adjusted_invoice_id', 'adjusted_line_type']
        ) }}
    from applied_balances

    union all

    select
        {{ billing.line_item_columns(
            nulls=['pricing_group_values', 'presentation_group_values', 'scheduled_charge_id',
                   'adjusted_invoice_id', 'adjusted_line_type']
        ) }}
    from commit_true_ups

),

final as (

    select
        {{ billing.line_item_columns() }}
    from unioned

)

select * from final
