{#-
  EXPIRATION entries of the balance ledger (DECISIONLOG D28): what a credit or prepaid commit has left
  (its amount less every deduction) at its access_ending_before, once as_of has reached it. A postpaid
  commit does not expire: its shortfall is trued up (int_ledger_true_ups).
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

deductions as (

    select * from {{ ref('int_ledger_deductions') }}

),

consumed as (

    select
        balance_id,
        -sum(amount) as consumed_amount
    from deductions
    group by balance_id

),

final as (

    select
        balances.balance_id,
        'EXPIRATION' as entry_type,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        balances.access_ending_before as effective_at,
        cast(-(balances.amount - coalesce(consumed.consumed_amount, 0)) as {{ billing.type_money() }}) as amount,
        true as is_final
    from balances
    left join consumed
        on balances.balance_id = consumed.balance_id
    where
        not balances.is_postpaid
        and balances.access_ending_before <= {{ billing.as_of() }}
        and balances.amount > coalesce(consumed.consumed_amount, 0)

)

select * from final
