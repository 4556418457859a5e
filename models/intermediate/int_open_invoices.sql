{#-
  Open invoices (DATA_CONTRACT semantics 9 and 10; not final when the build started, DECISIONLOG
  D29), rated now: a USAGE invoice for every billing period that has started (even at $0); a
  SCHEDULED invoice per contract and timestamp reached by as_of (scheduled charges, ADVANCE
  subscription fees, commit purchases). status is FINALIZED once as_of reaches finalizes_at: the
  build then stores the invoice (models/finalized) and it never changes again. A USAGE invoice with
  usage problems (int_usage_problems) is held: it stays a DRAFT until they are gone (D57, D58).
  Totals are sums of the rounded lines (int_open_invoice_totals): total = subtotal - credits_applied
  - commits_applied.
-#}
with periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

scheduled as (

    select * from {{ ref('int_scheduled_invoices') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

rate_cards as (

    select * from {{ ref('stg_rate_cards') }}

),

line_totals as (

    select * from {{ ref('int_open_invoice_totals') }}

),

invoice_states as (

    select * from {{ ref('int_invoice_states') }}

),

held_invoices as (

    select distinct invoice_id from {{ ref('int_usage_problems') }}

),

usage_invoices as (

    select
        invoice_id,
        contract_id,
        customer_id,
        'USAGE' as invoice_type,
        period_starting_at,
        period_ending_before,
        period_ending_before as issued_at,
        finalizes_at
    from periods

),

scheduled_invoices as (

    select
        invoice_id,
        contract_id,
        customer_id,
        'SCHEDULED' as invoice_type,
        cast(null as {{ dbt.type_timestamp() }}) as period_starting_at,
        cast(null as {{ dbt.type_timestamp() }}) as period_ending_before,
        issued_at,
        issued_at as finalizes_at
    from scheduled

),

invoices as (

    select * from usage_invoices
    union all
    select * from scheduled_invoices

),

final as (

    select
        invoices.invoice_id,
        invoices.contract_id,
        invoices.customer_id,
        invoices.invoice_type,
        case
            when {{ billing.as_of() }} >= invoices.finalizes_at and held_invoices.invoice_id is null
                then 'FINALIZED'
            else 'DRAFT'
        end as status,
        coalesce(rate_cards.currency, 'USD') as currency,
        invoices.period_starting_at,
        invoices.period_ending_before,
        invoices.issued_at,
        {{ billing.add_days('invoices.issued_at', 'contracts.net_payment_terms_days') }} as due_at,
        cast(coalesce(line_totals.subtotal, 0) as {{ billing.type_money() }}) as subtotal,
        cast(coalesce(line_totals.credits_applied, 0) as {{ billing.type_money() }}) as credits_applied,
        cast(coalesce(line_totals.commits_applied, 0) as {{ billing.type_money() }}) as commits_applied,
        cast(coalesce(line_totals.total, 0) as {{ billing.type_money() }}) as total,
        coalesce(line_totals.line_count, 0) as line_count,
        invoices.finalizes_at,
        contracts.name as contract_name
    from invoices
    inner join contracts
        on invoices.contract_id = contracts.contract_id
    left join rate_cards
        on contracts.rate_card_id = rate_cards.rate_card_id
    left join line_totals
        on invoices.invoice_id = line_totals.invoice_id
    inner join invoice_states
        on invoices.invoice_id = invoice_states.invoice_id
    left join held_invoices
        on invoices.invoice_id = held_invoices.invoice_id
    where not invoice_states.is_final

)

select * from final
