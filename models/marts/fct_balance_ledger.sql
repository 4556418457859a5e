{#-
  The balance ledger (DATA_CONTRACT outputs, semantics 8; DECISIONLOG D28): every movement of every
  credit and commit, as signed amounts whose sum is what is left.
    SEGMENT_START      +amount at access_starting_at (for every balance, also upcoming ones)
    INVOICE_DEDUCTION  -what the balance drew on a USAGE invoice, at the invoice's issued_at
                       (period end); final invoices as stored, drafts as rated now (is_final)
    EXPIRATION         -what a credit or prepaid commit has left at access_ending_before, once
                       as_of has reached it
    TRUEUP             -the shortfall a postpaid commit bills, on its true-up invoice
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

invoices as (

    select * from {{ ref('fct_invoices') }}

),

stored_drawdowns as (

    select * from {{ ref('finalized_balance_drawdowns') }}

),

open_drawdowns as (

    select
        drawdowns.balance_id,
        drawdowns.invoice_id,
        drawdowns.drawn_amount
    from {{ ref('int_balance_drawdowns') }} as drawdowns
    left join {{ ref('finalized_invoices') }} as final_invoices
        on drawdowns.invoice_id = final_invoices.invoice_id
    where final_invoices.invoice_id is null

),

drawdowns as (

    select
        balance_id,
        invoice_id,
        drawn_amount
    from stored_drawdowns
    union all
    select
        balance_id,
        invoice_id,
        drawn_amount
    from open_drawdowns

),

true_ups as (

    select
        line_items.commit_id as balance_id,
        line_items.invoice_id,
        line_items.amount
    from {{ ref('fct_invoice_line_items') }} as line_items
    where line_items.line_type = 'commit_true_up'

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
        invoices.issued_at as effective_at,
        cast(-sum(drawdowns.drawn_amount) as {{ billing.type_money() }}) as amount,
        invoices.status = 'FINALIZED' as is_final
    from drawdowns
    inner join invoices
        on drawdowns.invoice_id = invoices.invoice_id
    group by drawdowns.balance_id, drawdowns.invoice_id, invoices.issued_at, invoices.status

),

consumed as (

    select
        balance_id,
        -sum(amount) as consumed_amount
    from deductions
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
    where
        not balances.is_postpaid
        and balances.access_ending_before <= {{ billing.as_of() }}
        and balances.amount > coalesce(consumed.consumed_amount, 0)

),

trueups as (

    select
        true_ups.balance_id,
        'TRUEUP' as entry_type,
        true_ups.invoice_id,
        invoices.issued_at as effective_at,
        cast(-true_ups.amount as {{ billing.type_money() }}) as amount,
        invoices.status = 'FINALIZED' as is_final
    from true_ups
    inner join invoices
        on true_ups.invoice_id = invoices.invoice_id

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
        {{ dbt.hash(dbt.concat([
            "entries.balance_id", "'|'", "entries.entry_type", "'|'", "coalesce(entries.invoice_id, '')"
        ])) }} as ledger_entry_id,
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
