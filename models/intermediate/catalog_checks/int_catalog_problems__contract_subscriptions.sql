{#- Rows of seeds/contract_subscriptions.csv that break a catalog rule: (seed, row_key, problem). -#}
with subscription_timestamps as (

    {{ billing.select_utc_timestamps(
        billing.catalog_relation('contract_subscriptions'),
        ['starting_at', 'ending_before']
    ) }}

)

{{ billing.row_problems('contract_subscriptions', 'subscription_id', [
    [billing.missing('subscription_id'), 'subscription_id is missing'],
    [
        billing.missing('quantity') ~ ' or ' ~ billing.bad_decimal('quantity'),
        'quantity is missing or not a non-negative number'
    ],
    [
        billing.missing('starting_at') ~ ' or ' ~ billing.bad_timestamp('starting_at'),
        'starting_at is missing or not a valid timestamp'
    ],
    [billing.bad_timestamp('ending_before'), 'ending_before is not a valid timestamp'],
    [
        billing.bad_enum('collection_schedule', ['ADVANCE', 'ARREARS']),
        'collection_schedule must be ADVANCE or ARREARS'
    ],
    [billing.bad_boolean('is_prorated'), 'is_prorated must be true or false'],
] + billing.number_rules('quantity', 'quantity'), 'subscription_timestamps') }}
union all
{{ billing.config_problem(
    'contract_subscriptions', 'subscription_id',
    billing.duplicate_key('contract_subscriptions', 'subscription_id'),
    'subscription_id is not unique'
) }}
union all
{{ billing.config_problem(
    'contract_subscriptions', 'subscription_id',
    billing.unknown_reference('contract_id', 'contracts', 'contract_id'),
    'contract_id is not in contracts'
) }}
union all
{{ billing.config_problem(
    'contract_subscriptions', 'subscription_id',
    "product_id is null or trim(product_id) not in (select product_id from " ~ ref('stg_products')
    ~ " where product_type = 'SUBSCRIPTION')",
    'product_id is not a SUBSCRIPTION product'
) }}
