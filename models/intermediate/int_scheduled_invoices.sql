{#-
  SCHEDULED invoices: one per contract and instant at which a scheduled charge, an ADVANCE
  subscription fee or a prepaid commit purchase is billed.
-#}
with scheduled_charges as (

    select
        invoice_id,
        contract_id,
        customer_id,
        charged_at as issued_at
    from {{ ref('int_scheduled_charge_occurrences') }}

),

advance_fees as (

    select
        invoice_id,
        contract_id,
        customer_id,
        issued_at
    from {{ ref('int_subscription_charges') }}
    where invoice_type = 'SCHEDULED'

),

commit_purchases as (

    select
        invoice_id,
        contract_id,
        customer_id,
        purchased_at as issued_at
    from {{ ref('int_commit_purchases') }}

),

unioned as (

    select * from scheduled_charges
    union all
    select * from advance_fees
    union all
    select * from commit_purchases

),

final as (

    select distinct
        invoice_id,
        contract_id,
        customer_id,
        issued_at
    from unioned

)

select * from final
