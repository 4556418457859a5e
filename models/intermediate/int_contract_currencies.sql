{#-
  Each contract's currency (DECISIONLOG D20): its rate card's ISO 4217 code (USD when empty) and
  that currency's minor unit, the places its amounts are rounded to and its money keeps.
-#}
with contracts as (

    select * from {{ ref('stg_contracts') }}

),

rate_cards as (

    select * from {{ ref('stg_rate_cards') }}

),

final as (

    select
        contracts.contract_id,
        coalesce(rate_cards.currency, 'USD') as currency,
        {{ billing.currency_minor_units("coalesce(rate_cards.currency, 'USD')") }} as minor_units
    from contracts
    left join rate_cards
        on contracts.rate_card_id = rate_cards.rate_card_id

)

select * from final
