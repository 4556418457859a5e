{#-
  Prepaid commit purchases (DATA_CONTRACT semantics 8 and 9): a PREPAID commit with an invoice_at is
  billed invoice_amount (default: its amount) on the contract's SCHEDULED invoice at invoice_at,
  once as_of has reached it. A PREPAID commit without invoice_at is complimentary: never billed.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with balances as (

    select * from {{ ref('int_balances') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(["contract_id", "'|SCHEDULED|'", billing.timestamp_key('invoice_at')])) }} as invoice_id,
        balance_id as commit_id,
        contract_id,
        customer_id,
        product_id,
        name,
        invoice_at as purchased_at,
        access_starting_at,
        access_ending_before,
        invoice_amount
    from balances
    where
        balance_type = 'PREPAID_COMMIT'
        and invoice_at is not null
        and invoice_at <= {{ billing.as_of() }}

)

select * from final
