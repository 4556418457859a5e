{#-
  The balance ledger (DATA_CONTRACT outputs, semantics 8; DECISIONLOG D28): every movement of every
  credit and commit, as signed amounts whose sum is what is left.
    SEGMENT_START      +amount at access_starting_at (for every balance, also upcoming ones)
    INVOICE_DEDUCTION  -what the balance drew on a USAGE invoice, at the invoice's issued_at
                       (period end); drafts included: is_final says whether the invoice is final
    EXPIRATION         -what a credit or prepaid commit has left at access_ending_before, once
                       as_of has reached it
    TRUEUP             -the shortfall a postpaid commit bills, on its true-up invoice
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

drawdowns as (

    select * from {{ ref('int_balance_drawdowns') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

true_ups as (

    select * from {{ ref('int_commit_true_ups') }}

),

segment_starts as (

    select
        balance_id,
        'SEGMENT_START' as entry_type,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        access_starting_at as effective_at,
        cast(amount as {{ billing.type_money() }}) as amount,
        true as is_final
    from balances

),

deductions as (

    select
        drawdowns.balance_id,
        'INVOICE_DEDUCTION' as entry_type,
        drawdowns.invoice_id,
        periods.period_ending_before as effective_at,
        cast(-sum(drawdowns.drawn_amount) as {{ billing.type_money() }}) as amount,
        periods.finalizes_at <= {{ billing.as_of() }} as is_final
    from drawdowns
    inner join periods
        on drawdowns.invoice_id = periods.invoice_id
    group by drawdowns.balance_id, drawdowns.invoice_id, periods.period_ending_before, periods.finalizes_at

),

consumed as (

    select balance_id, sum(drawn_amount) as consumed_amount
    from drawdowns
    group by balance_id

),

expirations as (

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
    where not balances.is_postpaid
        and balances.access_ending_before <= {{ billing.as_of() }}
        and balances.amount > coalesce(consumed.consumed_amount, 0)

),

trueups as (

    select
        balance_id,
        'TRUEUP' as entry_type,
        invoice_id,
        issued_at as effective_at,
        cast(-amount as {{ billing.type_money() }}) as amount,
        finalizes_at <= {{ billing.as_of() }} as is_final
    from (
        select commit_id as balance_id, invoice_id, issued_at, amount, finalizes_at
        from true_ups
    ) as shortfalls

),

entries as (

    select * from segment_starts
    union all
    select * from deductions
    union all
    select * from expirations
    union all
    select * from trueups

),

final as (

    select
        {{ dbt.hash(dbt.concat(["entries.balance_id", "'|'", "entries.entry_type", "'|'", "coalesce(entries.invoice_id, '')"])) }} as ledger_entry_id,
        entries.balance_id,
        balances.balance_type,
        balances.contract_id,
        balances.customer_id,
        entries.entry_type,
        entries.invoice_id,
        entries.effective_at,
        entries.amount,
        entries.is_final
    from entries
    inner join balances
        on entries.balance_id = balances.balance_id

)

select * from final
