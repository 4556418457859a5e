{#-
  What each balance has left for open invoices (DECISIONLOG D26, D29): its amount less what final
  invoices drew from it (the store), never below 0.
-#}
{{ config(materialized='ephemeral') }}
with balances as (

    select * from {{ ref('int_balances') }}

),

stored_drawdowns as (

    select
        balance_id,
        sum(drawn_amount) as drawn_amount
    from {{ ref('int_stored_balance_drawdowns') }}
    group by balance_id

),

final as (

    select
        balances.balance_id,
        balances.contract_id,
        balances.drawdown_rank,
        balances.access_starting_at,
        balances.access_ending_before,
        balances.applies_to_all_products,
        balances.amount,
        case
            when balances.amount > coalesce(stored_drawdowns.drawn_amount, 0)
                then balances.amount - coalesce(stored_drawdowns.drawn_amount, 0)
            else 0
        end as available_amount
    from balances
    left join stored_drawdowns
        on balances.balance_id = stored_drawdowns.balance_id

)

select * from final
