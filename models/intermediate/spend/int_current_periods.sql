{#-
  Each contract's current billing period (DECISIONLOG D33): the USAGE invoice whose period holds
  as_of, with the seconds elapsed since it started and the seconds it lasts.
-#}
with invoices as (

    select * from {{ ref('fct_invoices') }}

),

final as (

    select
        invoice_id,
        contract_id,
        customer_id,
        currency,
        period_starting_at,
        period_ending_before,
        {{ billing.as_of() }} as as_of,
        {{ dbt.datediff('period_starting_at', billing.as_of(), 'second') }}
            as seconds_elapsed,
        {{ dbt.datediff('period_starting_at', 'period_ending_before', 'second') }}
            as seconds_in_period
    from invoices
    where
        invoice_type = 'USAGE'
        and period_starting_at <= {{ billing.as_of() }}
        and {{ billing.as_of() }} < period_ending_before

)

select * from final
