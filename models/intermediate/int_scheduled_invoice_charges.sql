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

contract_currencies as (

    select * from {{ ref('int_contract_currencies') }}

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
        {{ billing.round_money('scheduled_occurrences.amount', 'contract_currencies.currency') }} as amount,
        cast(null as {{ dbt.type_string() }}) as commit_id,
        scheduled_occurrences.scheduled_charge_id
    from scheduled_occurrences
    left join products
        on scheduled_occurrences.product_id = products.product_id
    inner join contract_currencies
        on scheduled_occurrences.contract_id = contract_currencies.contract_id

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
        {{ dbt.hash(dbt.concat([
            "commit_purchases.invoice_id", "'|commit_purchase|'", "commit_purchases.commit_id"
        ])) }} as line_item_id,
        commit_purchases.invoice_id,
        commit_purchases.contract_id,
        commit_purchases.customer_id,
        'commit_purchase' as line_type,
        commit_purchases.product_id,
        commit_purchases.name,
        commit_purchases.access_starting_at as starting_at,
        commit_purchases.access_ending_before as ending_before,
        cast(1 as {{ billing.type_decimal() }}) as quantity,
        commit_purchases.invoice_amount as unit_price,
        {{ billing.round_money('commit_purchases.invoice_amount', 'contract_currencies.currency') }} as amount,
        commit_purchases.commit_id,
        cast(null as {{ dbt.type_string() }}) as scheduled_charge_id
    from {{ ref('int_commit_purchases') }} as commit_purchases
    inner join contract_currencies
        on commit_purchases.contract_id = contract_currencies.contract_id

),

final as (

    select * from scheduled_lines
    union all
    select * from advance_fee_lines
    union all
    select * from commit_purchase_lines

)

select * from final
