{#-
  Per contract, its next open USAGE invoice: the earliest started billing period whose invoice was
  not final when the build started. Corrections to final invoices (late usage, true-up changes) go
  there (DECISIONLOG D30).
-#}
with periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

invoice_states as (

    select * from {{ ref('int_invoice_states') }}

),

open_periods as (

    select
        periods.contract_id,
        periods.invoice_id,
        periods.period_starting_at,
        row_number() over (partition by periods.contract_id order by periods.period_starting_at) as open_rank
    from periods
    inner join invoice_states
        on periods.invoice_id = invoice_states.invoice_id
    where not invoice_states.is_final

),

final as (

    select
        contract_id,
        invoice_id,
        period_starting_at
    from open_periods
    where open_rank = 1

)

select * from final
