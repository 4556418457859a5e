{#- SCHEDULED invoices: one per contract and instant at which a scheduled charge or an ADVANCE subscription fee is billed. -#}
with scheduled_charges as (

    select invoice_id, contract_id, customer_id, charged_at as issued_at
    from {{ ref('int_scheduled_charge_occurrences') }}

),

advance_fees as (

    select invoice_id, contract_id, customer_id, issued_at
    from {{ ref('int_subscription_charges') }}
    where invoice_type = 'SCHEDULED'

),

unioned as (

    select * from scheduled_charges
    union all
    select * from advance_fees

),

final as (

    select distinct invoice_id, contract_id, customer_id, issued_at
    from unioned

)

select * from final
