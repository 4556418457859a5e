{#-
  The charges of open USAGE invoices that balances may draw from (DATA_CONTRACT semantics 8,
  DECISIONLOG D26): the lines of one invoice for the same product, service period and groups are
  netted first (a negative late adjustment reduces the charge it corrects; two subscriptions' lines
  that start together but end apart stay two lines), and only a positive net is drawable. The netted
  charge keeps the id of its largest line.
-#}
{{ config(materialized='ephemeral') }}
with open_charges as (

    select
        open_charges.*,
        sum(open_charges.amount) over (
            partition by
                open_charges.invoice_id,
                open_charges.product_id,
                open_charges.starting_at,
                open_charges.ending_before,
                open_charges.pricing_group_values,
                open_charges.presentation_group_values
        ) as net_amount,
        row_number() over (
            partition by
                open_charges.invoice_id,
                open_charges.product_id,
                open_charges.starting_at,
                open_charges.ending_before,
                open_charges.pricing_group_values,
                open_charges.presentation_group_values
            order by open_charges.amount desc, open_charges.line_item_id asc
        ) as line_rank
    from {{ ref('int_open_usage_invoice_charges') }} as open_charges

),

final as (

    select
        line_item_id,
        invoice_id,
        contract_id,
        period_starting_at,
        starting_at,
        ending_before,
        product_id,
        net_amount as amount
    from open_charges
    where
        line_rank = 1
        and net_amount > 0

)

select * from final
