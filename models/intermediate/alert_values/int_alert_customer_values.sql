{#-
  Invoice total and balance alerts valued once per covered customer: the highest total among the
  customer's DRAFT invoices (window_key: that invoice), or what is left of its ACTIVE credits or
  prepaid commits (DECISIONLOG D66, D67); a null value when there is none.
-#}
with coverage as (

    select * from {{ ref('int_alert_coverage') }}
    where not is_period_alert

),

invoices as (

    select * from {{ ref('fct_invoices') }}

),

remaining_balances as (

    select * from {{ ref('int_alert_remaining_balances') }}

),

draft_invoice_totals as (

    select
        customer_id,
        invoice_id,
        currency,
        total,
        row_number() over (partition by customer_id order by total desc, invoice_id asc) as total_rank
    from invoices
    where status = 'DRAFT'

),

final as (

    select
        coverage.alert_id,
        coverage.alert_type,
        coverage.customer_id,
        coverage.billable_metric,
        coverage.threshold,
        case coverage.alert_type
            when 'invoice_total_reached' then draft_invoice_totals.currency
            else remaining_balances.currency
        end as currency,
        case coverage.alert_type
            when 'invoice_total_reached' then draft_invoice_totals.total
            else remaining_balances.remaining_amount
        end as current_value,
        case
            when coverage.alert_type = 'invoice_total_reached' then draft_invoice_totals.invoice_id
        end as window_key,
        true as is_current_window
    from coverage
    left join draft_invoice_totals
        on
            coverage.customer_id = draft_invoice_totals.customer_id
            and draft_invoice_totals.total_rank = 1
    left join remaining_balances
        on
            coverage.customer_id = remaining_balances.customer_id
            and coverage.alert_type = remaining_balances.alert_type

)

select * from final
