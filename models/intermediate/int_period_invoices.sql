{#-
  Which invoices make up a contract's billing period so far (DECISIONLOG D33, D69): the period's
  USAGE invoice, and the SCHEDULED invoices issued in the period up to as_of. One row per started
  billing period (a USAGE invoice whose period has started by as_of) and invoice. fct_customer_spend
  (the current period's spend) and int_alert_evaluations (spend alerts, every rated period) read it;
  which lines of these invoices count is theirs to say.
-#}
with invoices as (

    select * from {{ ref('fct_invoices') }}

),

started_periods as (

    select
        invoice_id as period_invoice_id,
        contract_id,
        period_starting_at,
        period_ending_before
    from invoices
    where
        invoice_type = 'USAGE'
        and period_starting_at <= {{ billing.as_of() }}

),

final as (

    select
        started_periods.period_invoice_id,
        started_periods.contract_id,
        invoices.invoice_id,
        invoices.invoice_type
    from started_periods
    inner join invoices
        on started_periods.contract_id = invoices.contract_id
    where
        invoices.invoice_id = started_periods.period_invoice_id
        or (
            invoices.invoice_type = 'SCHEDULED'
            and invoices.issued_at >= started_periods.period_starting_at
            and invoices.issued_at < started_periods.period_ending_before
            and invoices.issued_at <= {{ billing.as_of() }}
        )

)

select * from final
