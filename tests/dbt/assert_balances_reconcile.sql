{#-
  Balances add up: remaining = amount - consumed - expired - trued up = sum of the ledger, never
  negative; and no invoice has more credits and commits applied than its positive charges.
-#}
with balances as (

    select * from {{ ref('fct_balances') }}

),

ledger_sums as (

    select
        balance_id,
        sum(amount) as ledger_amount
    from {{ ref('fct_balance_ledger') }}
    group by balance_id

),

balance_mismatches as (

    select
        balances.balance_id as row_key,
        'remaining ' || cast(balances.remaining_amount as {{ dbt.type_string() }})
        || ' but ledger ' || cast(coalesce(ledger_sums.ledger_amount, 0) as {{ dbt.type_string() }})
        || ' and amount - consumed - expired - trued up '
        || cast(
            balances.amount - balances.consumed_amount - balances.expired_amount - balances.trued_up_amount
            as {{ dbt.type_string() }}
        ) as problem
    from balances
    left join ledger_sums
        on balances.balance_id = ledger_sums.balance_id
    where
        balances.remaining_amount <> coalesce(ledger_sums.ledger_amount, 0)
        or balances.remaining_amount
        <> balances.amount - balances.consumed_amount - balances.expired_amount - balances.trued_up_amount
        or balances.remaining_amount < 0

),

drawable_charges as (

    select
        invoice_id,
        sum(case
            when line_type in ('usage', 'composite', 'subscription', 'late_usage_adjustment') and amount > 0
                then amount
            else 0
        end)
            as drawable_amount,
        -sum(case when line_type in ('applied_credit', 'applied_commit') then amount else 0 end) as applied_amount
    from {{ ref('fct_invoice_line_items') }}
    group by invoice_id

),

over_applied as (

    select
        invoice_id as row_key,
        'credits and commits applied (' || cast(applied_amount as {{ dbt.type_string() }})
        || ') exceed the positive charges (' || cast(drawable_amount as {{ dbt.type_string() }}) || ')' as problem
    from drawable_charges
    where applied_amount > drawable_amount

)

select * from balance_mismatches
union all
select * from over_applied
