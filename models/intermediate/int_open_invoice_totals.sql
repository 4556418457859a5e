{#-
  The totals of each open invoice (DATA_CONTRACT semantics 9): sums of its rounded lines, so that
  total = subtotal - credits_applied - commits_applied. subtotal is every charge line (all but the
  applied credits and commits, which are negative lines); credits_applied and commits_applied are
  what those lines took, as positive amounts. An invoice without lines has none here (0 everywhere
  in int_open_invoices).
-#}
{{ config(materialized='ephemeral') }}
with line_items as (

    select * from {{ ref('int_open_invoice_line_items') }}

),

final as (

    select
        invoice_id,
        sum(case when line_type not in ('applied_credit', 'applied_commit') then amount else 0 end) as subtotal,
        -sum(case when line_type = 'applied_credit' then amount else 0 end) as credits_applied,
        -sum(case when line_type = 'applied_commit' then amount else 0 end) as commits_applied,
        sum(amount) as total,
        count(*) as line_count
    from line_items
    group by invoice_id

)

select * from final
