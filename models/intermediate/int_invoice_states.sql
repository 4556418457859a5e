{#-
  Whether each invoice this build knows of was final when the build started (DECISIONLOG D29, D43):
  every USAGE invoice (one per started billing period) and every SCHEDULED invoice, with is_final
  when its current version is in the invoice store (int_stored_invoices). A final invoice is never
  re-rated; the models that rate or place charges keep the invoices that are not final by joining
  here, so "is this invoice stored?" is answered once.
-#}
with periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

scheduled as (

    select * from {{ ref('int_scheduled_invoices') }}

),

stored_invoices as (

    select * from {{ ref('int_stored_invoices') }}

),

invoices as (

    select
        invoice_id,
        contract_id,
        'USAGE' as invoice_type
    from periods

    union all

    select
        invoice_id,
        contract_id,
        'SCHEDULED' as invoice_type
    from scheduled

),

final as (

    select
        invoices.invoice_id,
        invoices.contract_id,
        invoices.invoice_type,
        stored_invoices.invoice_id is not null as is_final
    from invoices
    left join stored_invoices
        on invoices.invoice_id = stored_invoices.invoice_id

)

select * from final
