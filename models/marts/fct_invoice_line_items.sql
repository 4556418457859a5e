{#-
  Every invoice line (DATA_CONTRACT outputs): usage, composite and ARREARS subscription lines on
  USAGE invoices; scheduled charges and ADVANCE subscription fees on SCHEDULED invoices.
-#}
with usage_lines as (

    select * from {{ ref('int_usage_line_items') }}

),

scheduled_occurrences as (

    select * from {{ ref('int_scheduled_charge_occurrences') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

subscription_charges as (

    select * from {{ ref('int_subscription_charges') }}

),

scheduled_lines as (

    select
        {{ dbt.hash(dbt.concat(["scheduled_occurrences.invoice_id", "'|scheduled|'", "scheduled_occurrences.scheduled_charge_id"])) }} as line_item_id,
        scheduled_occurrences.invoice_id,
        scheduled_occurrences.contract_id,
        scheduled_occurrences.customer_id,
        'scheduled' as line_type,
        scheduled_occurrences.product_id,
        coalesce(scheduled_occurrences.name, products.name) as name,
        scheduled_occurrences.charged_at as starting_at,
        scheduled_occurrences.service_ending_before as ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        cast(1 as {{ billing.type_decimal() }}) as quantity,
        scheduled_occurrences.amount as unit_price,
        {{ billing.round_money('scheduled_occurrences.amount') }} as amount,
        scheduled_occurrences.scheduled_charge_id
    from scheduled_occurrences
    left join products
        on scheduled_occurrences.product_id = products.product_id

),

composite_lines as (

    select
        line_item_id, invoice_id, contract_id, customer_id, line_type, product_id, name,
        starting_at, ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        quantity, unit_price, amount,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from {{ ref('int_composite_line_items') }}

),

subscription_lines as (

    select
        line_item_id,
        invoice_id,
        contract_id,
        customer_id,
        'subscription' as line_type,
        product_id,
        name,
        service_starting_at as starting_at,
        service_ending_before as ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        quantity,
        unit_price,
        amount,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from subscription_charges

),

unioned as (

    select
        line_item_id, invoice_id, contract_id, customer_id, line_type, product_id, name,
        starting_at, ending_before, pricing_group_values, presentation_group_values,
        quantity, unit_price, amount,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from usage_lines

    union all

    select
        line_item_id, invoice_id, contract_id, customer_id, line_type, product_id, name,
        starting_at, ending_before, pricing_group_values, presentation_group_values,
        quantity, unit_price, amount, scheduled_charge_id
    from scheduled_lines

    union all

    select * from subscription_lines

    union all

    select * from composite_lines

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
        cast(null as {{ dbt.type_string() }}) as commit_id,
        cast(null as {{ dbt.type_string() }}) as credit_id,
        scheduled_charge_id
    from unioned

)

select * from final
