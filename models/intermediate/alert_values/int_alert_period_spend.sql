{#-
  The spend of each evaluated billing period (DECISIONLOG D69): the charges of its USAGE invoice and
  of the SCHEDULED invoices issued in it up to as_of, before credits and commits, plus the late usage
  adjustments billed later for it, wherever they are billed (and not those its own invoice carries
  for other periods).
-#}
with periods as (

    select * from {{ ref('int_alert_periods') }}

),

period_invoices as (

    select * from {{ ref('int_period_invoices') }}

),

line_items as (

    select * from {{ ref('fct_invoice_line_items') }}

),

period_charges as (

    select
        periods.invoice_id,
        line_items.amount
    from periods
    inner join period_invoices
        on periods.invoice_id = period_invoices.period_invoice_id
    inner join line_items
        on period_invoices.invoice_id = line_items.invoice_id
    where line_items.line_type not in ('applied_credit', 'applied_commit', 'late_usage_adjustment')

    union all

    -- late usage of the period, wherever it is billed
    select
        periods.invoice_id,
        line_items.amount
    from periods
    inner join line_items
        on periods.invoice_id = line_items.adjusted_invoice_id
    where line_items.line_type = 'late_usage_adjustment'

),

final as (

    select
        invoice_id,
        sum(amount) as spend
    from period_charges
    group by invoice_id

)

select * from final
