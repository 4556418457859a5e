{#-
  Rows of seeds/contract_commits.csv and seeds/contract_credits.csv that break a catalog rule:
  (seed, row_key, problem). Shared column rules are in macros/balance_checks.sql.
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

commit_timestamps as (

    {{ billing.select_utc_timestamps(
        billing.catalog_relation('contract_commits'),
        ['access_starting_at', 'access_ending_before', 'invoice_at']
    ) }}

),

credit_timestamps as (

    {{ billing.select_utc_timestamps(
        billing.catalog_relation('contract_credits'),
        ['access_starting_at', 'access_ending_before']
    ) }}

),

listed_products as (

    {{ billing.unnest_json_array('balances', 'balance_id', 'applicable_product_ids', 'product_id') }}

),

column_problems as (

    {{ billing.balance_problems('contract_commits', 'commit_id', 'commit_timestamps', [
        [billing.bad_enum('type', ['PREPAID', 'POSTPAID'], required=true), 'type must be PREPAID or POSTPAID'],
        [billing.bad_timestamp('invoice_at'), 'invoice_at is not a valid timestamp'],
        [billing.bad_decimal('invoice_amount'), 'invoice_amount is not a non-negative number'],
        [
            "upper(trim(type)) = 'POSTPAID' and " ~ billing.missing('access_ending_before'),
            'a POSTPAID commit needs access_ending_before (its true-up date)'
        ],
    ] + billing.number_rules('invoice_amount', 'amount')) }}
    union all
    {{ billing.minor_unit_problems('contract_commits', 'commit_id', 'invoice_amount') }}
    union all
    {{ billing.balance_problems('contract_credits', 'credit_id', 'credit_timestamps') }}

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
    from column_problems
    union all
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
