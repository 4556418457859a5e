{#- Rows of seeds/contracts.csv that break a catalog rule: (seed, row_key, problem). -#}
with contract_timestamps as (

    {{ billing.select_utc_timestamps(billing.catalog_relation('contracts'), ['starting_at', 'ending_before']) }}

)

{{ billing.row_problems('contracts', 'contract_id', [
    [billing.missing('contract_id'), 'contract_id is missing'],
    [
        billing.missing('starting_at') ~ ' or ' ~ billing.bad_timestamp('starting_at'),
        'starting_at is missing or not a valid timestamp'
    ],
    [billing.bad_timestamp('ending_before'), 'ending_before is not a valid timestamp'],
    ['ending_before_utc <= starting_at_utc', 'ending_before is not after starting_at'],
    [
        billing.bad_enum('usage_statement_frequency', ['MONTHLY', 'QUARTERLY', 'ANNUAL']),
        'usage_statement_frequency must be MONTHLY, QUARTERLY or ANNUAL'
    ],
    [
        billing.bad_enum('usage_statement_day', ['FIRST_OF_MONTH', 'CONTRACT_START']),
        'usage_statement_day must be FIRST_OF_MONTH or CONTRACT_START'
    ],
    [
        "net_payment_terms_days is not null and trim(net_payment_terms_days) <> '' and ("
        ~ billing.try_to_integer('net_payment_terms_days') ~ " is null or "
        ~ billing.try_to_integer('net_payment_terms_days') ~ " < 0)",
        'net_payment_terms_days is not a non-negative whole number'
    ],
], 'contract_timestamps') }}
union all
{{ billing.config_problem(
    'contracts', 'contract_id',
    billing.duplicate_key('contracts', 'contract_id'),
    'contract_id is not unique'
) }}
union all
{{ billing.config_problem(
    'contracts', 'contract_id',
    billing.unknown_reference('customer_id', 'customers', 'customer_id'),
    'customer_id is not in customers'
) }}
union all
{{ billing.config_problem(
    'contracts', 'contract_id',
    billing.unknown_reference('rate_card_id', 'rate_cards', 'rate_card_id'),
    'rate_card_id is not in rate_cards'
) }}
union all
select
    'contracts.csv' as seed,
    a.contract_id as row_key,
    'overlaps contract ' || b.contract_id || ' of the same customer' as problem
from {{ ref('stg_contracts') }} as a
inner join {{ ref('stg_contracts') }} as b
    on
        a.customer_id = b.customer_id
        and a.contract_id < b.contract_id
        and a.starting_at < coalesce(b.ending_before, cast('9999-12-31' as {{ dbt.type_timestamp() }}))
        and b.starting_at < coalesce(a.ending_before, cast('9999-12-31' as {{ dbt.type_timestamp() }}))
union all
select
    'contracts.csv' as seed,
    contract_id as row_key,
    'starts more than 1200 billing periods before billing_as_of (at most 100 years are billed)' as problem
from {{ ref('stg_contracts') }}
where
    {{ dbt.datediff('starting_at', billing.as_of(), 'month') }}
    >= 1199
