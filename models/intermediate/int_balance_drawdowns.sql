{#-
  What each balance drew from each charge line: the passes of int_balance_drawdown_passes with a
  positive amount, one row per (line, balance). Postpaid commits appear too: for them the amount is
  the consumption counted towards the commitment, not a reduction of the invoice.
-#}
with passes as (

    select * from {{ ref('int_balance_drawdown_passes') }}

),

final as (

    select
        line_item_id,
        invoice_id,
        contract_id,
        period_starting_at,
        balance_id,
        drawn_amount
    from passes
    where drawn_amount > 0

)

select * from final
