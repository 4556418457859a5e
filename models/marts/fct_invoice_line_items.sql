{#-
  Every invoice line (DATA_CONTRACT outputs):
    USAGE invoices: usage, composite and ARREARS subscription lines; applied_credit and
      applied_commit lines (negative); commit_true_up lines;
    SCHEDULED invoices: scheduled charges, ADVANCE subscription fees and commit_purchase lines.
-#}
with usage_invoice_charges as (

    select * from {{ ref('int_usage_invoice_charges') }}

),

scheduled_invoice_charges as (

    select * from {{ ref('int_scheduled_invoice_charges') }}

),

applied_balances as (

    select * from {{ ref('int_applied_balance_line_items') }}

),

commit_true_ups as (

    select * from {{ ref('int_commit_true_ups') }}

),

unioned as (

    select
        line_item_id, invoice_id, contract_id, customer_id, line_type, product_id, name,
        starting_at, ending_before, pricing_group_values, presentation_group_values,
        quantity, unit_price, amount,
        cast(null as {{ dbt.type_string() }}) as commit_id,
        cast(null as {{ dbt.type_string() }}) as credit_id,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from usage_invoice_charges

    union all

    select
        line_item_id, invoice_id, contract_id, customer_id, line_type, product_id, name,
        starting_at, ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        quantity, unit_price, amount, commit_id,
        cast(null as {{ dbt.type_string() }}) as credit_id,
        scheduled_charge_id
    from scheduled_invoice_charges

    union all

    select
        line_item_id, invoice_id, contract_id, customer_id, line_type, product_id, name,
        starting_at, ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        quantity, unit_price, amount, commit_id, credit_id,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from applied_balances

    union all

    select
        line_item_id, invoice_id, contract_id, customer_id, line_type, product_id, name,
        starting_at, ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        quantity, unit_price, amount, commit_id, credit_id,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from commit_true_ups

),

final as (

    select
        line_item_id,
        invoice_id,
        contract_id,
        customer_id,
        line_type,
        product_id,
        name,
        starting_at,
        ending_before,
        pricing_group_values,
        presentation_group_values,
        quantity,
        unit_price,
        amount,
        commit_id,
        credit_id,
        scheduled_charge_id
    from unioned

)

select * from final
