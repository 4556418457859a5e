{#-
  What each product has cost so far in its contract's current billing period (DECISIONLOG D33): the
  charge lines (everything but applied credits and commits) of the current USAGE invoice and of the
  SCHEDULED invoices issued since the period started. usage_spend_to_date is the part that grows with
  time (usage and composite lines). Lines without a product (commit true-ups) are grouped under
  product_id null, with their name.
-#}
with current_periods as (

    select * from {{ ref('int_current_periods') }}

),

period_invoices as (

    select * from {{ ref('int_period_invoices') }}

),

line_items as (

    select * from {{ ref('fct_invoice_line_items') }}

),

current_period_invoices as (

    select
        current_periods.contract_id,
        period_invoices.invoice_id
    from current_periods
    inner join period_invoices
        on current_periods.invoice_id = period_invoices.period_invoice_id

),

final as (

    select
        current_period_invoices.contract_id,
        line_items.product_id,
        max(line_items.name) as line_name,
        sum(line_items.amount) as spend_to_date,
        sum(case when line_items.line_type in ('usage', 'composite') then line_items.amount else 0 end)
            as usage_spend_to_date
    from current_period_invoices
    inner join line_items
        on current_period_invoices.invoice_id = line_items.invoice_id
    where line_items.line_type not in ('applied_credit', 'applied_commit')
    group by current_period_invoices.contract_id, line_items.product_id

)

select * from final
