{#-
  The billing periods whose spend and usage alerts are evaluated (DECISIONLOG D69): every USAGE
  invoice this build rates whose period has started by as_of (the open ones, and final ones with late
  usage: a first build over past months rates them all). window_key names the period;
  is_current_window marks the one that holds as_of.
-#}
with invoices as (

    select * from {{ ref('fct_invoices') }}

),

periods_to_rate as (

    select * from {{ ref('int_periods_to_rate') }}

),

final as (

    select
        invoices.invoice_id,
        invoices.contract_id,
        invoices.customer_id,
        invoices.currency,
        invoices.period_starting_at,
        invoices.period_ending_before,
        {{ dbt.concat(['invoices.contract_id', "'/'", billing.timestamp_key('invoices.period_starting_at')]) }}
            as window_key,
        coalesce({{ billing.as_of() }} < invoices.period_ending_before, false) as is_current_window
    from invoices
    inner join periods_to_rate
        on invoices.invoice_id = periods_to_rate.invoice_id
    where
        invoices.invoice_type = 'USAGE'
        and invoices.period_starting_at <= {{ billing.as_of() }}

)

select * from final
