{#-
  Each credit and commit as of billing_as_of (DATA_CONTRACT semantics 8), for customer-facing balance
  views: what it started with, what invoices drew (finalized and draft: remaining_amount counts what
  open drafts would draw), what expired or was trued up, and what is left (= the sum of its
  fct_balance_ledger entries).
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

ledger as (

    select * from {{ ref('fct_balance_ledger') }}

),

movements as (

    select
        balance_id,
        -sum(case when entry_type = 'INVOICE_DEDUCTION' then amount else 0 end) as consumed_amount,
        -sum(case when entry_type = 'INVOICE_DEDUCTION' and not is_final then amount else 0 end)
            as draft_consumed_amount,
        -sum(case when entry_type = 'EXPIRATION' then amount else 0 end) as expired_amount,
        -sum(case when entry_type = 'TRUEUP' then amount else 0 end) as trued_up_amount,
        sum(amount) as remaining_amount
    from ledger
    group by balance_id

),

final as (

    select
        balances.balance_id,
        balances.balance_type,
        balances.contract_id,
        balances.customer_id,
        balances.product_id,
        balances.name,
        balances.priority,
        balances.drawdown_rank,
        balances.access_starting_at,
        balances.access_ending_before,
        case
            when {{ billing.as_of() }} < balances.access_starting_at then 'UPCOMING'
            when
                balances.access_ending_before is not null
                and {{ billing.as_of() }} >= balances.access_ending_before then 'ENDED'
            else 'ACTIVE'
        end as status,
        cast(balances.amount as {{ billing.type_money() }}) as amount,
        cast(coalesce(movements.consumed_amount, 0) as {{ billing.type_money() }}) as consumed_amount,
        cast(coalesce(movements.draft_consumed_amount, 0) as {{ billing.type_money() }}) as draft_consumed_amount,
        cast(coalesce(movements.expired_amount, 0) as {{ billing.type_money() }}) as expired_amount,
        cast(coalesce(movements.trued_up_amount, 0) as {{ billing.type_money() }}) as trued_up_amount,
        cast(coalesce(movements.remaining_amount, 0) as {{ billing.type_money() }}) as remaining_amount,
        {{ billing.as_of() }} as as_of
    from balances
    left join movements
        on balances.balance_id = movements.balance_id

)

select * from final
