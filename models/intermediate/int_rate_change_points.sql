{#-
  Rate change points (DATA_CONTRACT semantics 4): per contract and usage or composite product on
  its rate card, every instant where one of the product's rates, or an override that applies to it
  (int_override_products), starts or ends. Billing periods are split at these instants
  (int_segment_rates). Every product on the contract's rate card has at least the start of its
  first rate, so the (contract_id, rate_card_id, product_id) here are the contract's rated products.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with contracts as (

    select * from {{ ref('stg_contracts') }}

),

products as (

    select * from {{ ref('stg_products') }}
    where product_type in ('USAGE', 'COMPOSITE')

),

rates as (

    select * from {{ ref('stg_rate_card_rates') }}

),

overrides as (

    select * from {{ ref('stg_contract_overrides') }}

),

override_products as (

    select * from {{ ref('int_override_products') }}

),

contract_rates as (

    select
        contracts.contract_id,
        rates.rate_card_id,
        rates.product_id,
        rates.starting_at,
        rates.ending_before
    from contracts
    inner join rates
        on contracts.rate_card_id = rates.rate_card_id
    inner join products
        on rates.product_id = products.product_id

),

contract_products as (

    select distinct
        contract_id,
        rate_card_id,
        product_id
    from contract_rates

),

contract_overrides as (

    select
        contract_products.contract_id,
        contract_products.rate_card_id,
        contract_products.product_id,
        overrides.starting_at,
        overrides.ending_before
    from override_products
    inner join overrides
        on override_products.override_id = overrides.override_id
    inner join contract_products
        on
            override_products.contract_id = contract_products.contract_id
            and override_products.product_id = contract_products.product_id

),

change_points as (

    select
        contract_id,
        rate_card_id,
        product_id,
        starting_at as changes_at
    from contract_rates

    union

    select
        contract_id,
        rate_card_id,
        product_id,
        ending_before
    from contract_rates
    where ending_before is not null

    union

    select
        contract_id,
        rate_card_id,
        product_id,
        starting_at
    from contract_overrides

    union

    select
        contract_id,
        rate_card_id,
        product_id,
        ending_before
    from contract_overrides
    where ending_before is not null

),

final as (

    select * from change_points

)

select * from final
