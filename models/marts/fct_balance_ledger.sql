{#-
  The balance ledger (DATA_CONTRACT outputs, semantics 8; DECISIONLOG D28): every movement of every
  credit and commit, as signed amounts whose sum is what is left.
    SEGMENT_START      +amount at access_starting_at (for every balance, also upcoming ones)
    INVOICE_DEDUCTION  -what the balance drew on a USAGE invoice, at the invoice's issued_at
                       (period end); final invoices as stored, drafts as rated now (is_final)
    EXPIRATION         -what a credit or prepaid commit has left at access_ending_before, once
                       as_of has reached it
    TRUEUP             -the shortfall a postpaid commit bills, on its true-up invoice
  Each entry type but the first is a model of models/intermediate/ledger/ (CTEs of this one, D78).
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

deductions as (

    select * from {{ ref('int_ledger_deductions') }}

),

expirations as (

    select * from {{ ref('int_ledger_expirations') }}

),

true_ups as (

    select * from {{ ref('int_ledger_true_ups') }}

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

entries as (

    select * from segment_starts
    union all
    select * from deductions
    union all
    select * from expirations
    union all
    select * from true_ups

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
