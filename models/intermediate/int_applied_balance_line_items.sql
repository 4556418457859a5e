{#-
  Prepaid commits and credits reduce the invoice (DATA_CONTRACT semantics 8): one negative line per
  (USAGE invoice, balance) that drew from it, `applied_credit` (credit_id) or `applied_commit`
  (commit_id), spanning the invoice's period. Postpaid commits never reduce an invoice.
-#}
with drawdowns as (

    select * from {{ ref('int_balance_drawdowns') }}

),

balances as (

    select * from {{ ref('int_balances') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

drawn_per_invoice as (

    select
        drawdowns.invoice_id,
        drawdowns.balance_id,
        sum(drawdowns.drawn_amount) as drawn_amount
    from drawdowns
    group by drawdowns.invoice_id, drawdowns.balance_id

),

final as (

    select
        {{ dbt.hash(dbt.concat(["drawn_per_invoice.invoice_id", "'|applied|'", "balances.balance_id"])) }}
            as line_item_id,
        drawn_per_invoice.invoice_id,
        balances.contract_id,
        balances.customer_id,
        case when balances.balance_type = 'CREDIT' then 'applied_credit' else 'applied_commit' end as line_type,
        balances.product_id,
        balances.name,
        periods.period_starting_at as starting_at,
        periods.period_ending_before as ending_before,
        cast(1 as {{ billing.type_decimal() }}) as quantity,
        cast(-drawn_per_invoice.drawn_amount as {{ billing.type_decimal() }}) as unit_price,
        cast(-drawn_per_invoice.drawn_amount as {{ billing.type_money() }}) as amount,
        balances.commit_id,
        balances.credit_id
    from drawn_per_invoice
    inner join balances
        on drawn_per_invoice.balance_id = balances.balance_id
    inner join periods
        on drawn_per_invoice.invoice_id = periods.invoice_id
    where not balances.is_postpaid

)

select * from final
