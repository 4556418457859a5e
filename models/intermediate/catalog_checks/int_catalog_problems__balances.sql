{#-
  Commits and credits against the rest of the catalog: (seed, row_key, problem). A balance id used by
  both seeds, an access window or purchase outside its contract, an applicable product that is not a
  product. The rules of each row's own columns are int_catalog_problems__balance_columns.
-#}
with balances as (

    select * from {{ ref('int_balances') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

listed_products as (

    {{ billing.unnest_json_array('balances', 'balance_id', 'applicable_product_ids', 'product_id') }}

),

shared_ids as (

    select
        'contract_credits.csv' as seed,
        balance_id as row_key,
        'credit_id is also a commit_id (balance ids must be unique across commits and credits)' as problem
    from balances
    group by balance_id
    having count(distinct balance_type = 'CREDIT') > 1

),

outside_contract as (

    select
        case when balances.balance_type = 'CREDIT' then 'contract_credits.csv' else 'contract_commits.csv' end as seed,
        balances.balance_id as row_key,
        'the access window does not overlap its contract' as problem
    from balances
    inner join contracts
        on balances.contract_id = contracts.contract_id
    where
        (contracts.ending_before is not null and balances.access_starting_at >= contracts.ending_before)
        or (balances.access_ending_before is not null and balances.access_ending_before <= contracts.starting_at)

),

purchase_outside_contract as (

    select
        'contract_commits.csv' as seed,
        balances.balance_id as row_key,
        'invoice_at is outside its contract' as problem
    from balances
    inner join contracts
        on balances.contract_id = contracts.contract_id
    where
        balances.invoice_at < contracts.starting_at
        or (contracts.ending_before is not null and balances.invoice_at >= contracts.ending_before)

),

unknown_products as (

    select
        case when balances.balance_type = 'CREDIT' then 'contract_credits.csv' else 'contract_commits.csv' end as seed,
        balances.balance_id as row_key,
        'applicable_product_ids names ' || listed_products.product_id || ', which is not in products' as problem
    from listed_products
    inner join balances
        on listed_products.balance_id = balances.balance_id
    left join products
        on listed_products.product_id = products.product_id
    where products.product_id is null

),

final as (

    select
        seed,
        row_key,
        problem
    from shared_ids
    union all
    select
        seed,
        row_key,
        problem
    from outside_contract
    union all
    select
        seed,
        row_key,
        problem
    from purchase_outside_contract
    union all
    select
        seed,
        row_key,
        problem
    from unknown_products

)

select * from final
