{#-
  The lines of SCHEDULED invoices (DATA_CONTRACT semantics 9), in the shape of
  fct_invoice_line_items: scheduled charges, ADVANCE subscription fees and prepaid commit purchases.
-#}
with scheduled_occurrences as (

    select * from {{ ref('int_scheduled_charge_occurrences') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

scheduled_lines as (

    select
        {{ dbt.hash(dbt.concat([
            "scheduled_occurrences.invoice_id", "'|scheduled|'", "scheduled_occurrences.scheduled_charge_id"
        ])) }} as line_item_id,
        scheduled_occurrences.invoice_id,
        scheduled_occurrences.contract_id,
        scheduled_occurrences.customer_id,
        'scheduled' as line_type,
        scheduled_occurrences.product_id,
        coalesce(scheduled_occurrences.name, products.name) as name,
        scheduled_occurrences.charged_at as starting_at,
        scheduled_occurrences.service_ending_before as ending_before,
        cast(1 as {{ billing.type_decimal() }}) as quantity,
        scheduled_occurrences.amount as unit_price,
        {{ billing.round_money('scheduled_occurrences.amount') }} as amount,
        cast(null as {{ dbt.type_string() }}) as commit_id,
        scheduled_occurrences.scheduled_charge_id
    from scheduled_occurrences
    left join products
        on scheduled_occurrences.product_id = products.product_id

),

advance_fee_lines as (

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
        quantity,
        unit_price,
        amount,
        cast(null as {{ dbt.type_string() }}) as commit_id,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from {{ ref('int_subscription_charges') }}
    where invoice_type = 'SCHEDULED'

),

commit_purchase_lines as (

    select
        {{ dbt.hash(dbt.concat(["invoice_id", "'|commit_purchase|'", "commit_id"])) }} as line_item_id,
        invoice_id,
        contract_id,
        customer_id,
        'commit_purchase' as line_type,
        product_id,
        name,
        access_starting_at as starting_at,
        access_ending_before as ending_before,
        cast(1 as {{ billing.type_decimal() }}) as quantity,
        invoice_amount as unit_price,
        {{ billing.round_money('invoice_amount') }} as amount,
        commit_id,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from {{ ref('int_commit_purchases') }}

),

final as (

    select * from scheduled_lines
    union all
    select * from advance_fee_lines
    union all
    select * from commit_purchase_lines

)

select * from final
