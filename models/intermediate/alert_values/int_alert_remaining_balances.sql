{#-
  What each customer can still draw now, per low-balance alert type: the remaining amount of its
  ACTIVE credits (low_credit_balance_reached, DECISIONLOG D67) and of its ACTIVE prepaid commits
  (low_remaining_commit_balance_reached). A postpaid commit is a minimum spend, not a balance (D66);
  an expired or used-up balance is not ACTIVE.
-#}
with balances as (

    select * from {{ ref('fct_balances') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

rate_cards as (

    select * from {{ ref('stg_rate_cards') }}

),

drawable as (

    select
        balances.customer_id,
        case
            when balances.balance_type = 'CREDIT' then 'low_credit_balance_reached'
            else 'low_remaining_commit_balance_reached'
        end as alert_type,
        rate_cards.currency,
        balances.remaining_amount
    from balances
    inner join contracts
        on balances.contract_id = contracts.contract_id
    inner join rate_cards
        on contracts.rate_card_id = rate_cards.rate_card_id
    where
        balances.status = 'ACTIVE'
        and balances.balance_type <> 'POSTPAID_COMMIT'

),

final as (

    select
        customer_id,
        alert_type,
        min(currency) as currency,
        sum(remaining_amount) as remaining_amount
    from drawable
    group by customer_id, alert_type

)

select * from final
