{#- Rows of seeds/contract_overrides.csv that break a catalog rule: (seed, row_key, problem). -#}
with override_timestamps as (

    {{ billing.select_utc_timestamps(
        billing.catalog_relation('contract_overrides'),
        ['starting_at', 'ending_before']
    ) }}

)

{{ billing.row_problems('contract_overrides', 'override_id', [
    [billing.missing('override_id'), 'override_id is missing'],
    [
        billing.missing('product_id') ~ ' and ' ~ billing.missing_list('product_tags'),
        'an override needs a product_id or product_tags'
    ],
    [billing.bad_string_list('product_tags'), 'product_tags is not a JSON list of strings'],
    [
        billing.missing('starting_at') ~ ' or ' ~ billing.bad_timestamp('starting_at'),
        'starting_at is missing or not a valid timestamp'
    ],
    [billing.bad_timestamp('ending_before'), 'ending_before is not a valid timestamp'],
    [billing.bad_enum('type', ['OVERWRITE', 'MULTIPLIER']), 'type must be OVERWRITE, MULTIPLIER or empty'],
    [billing.bad_boolean('entitled'), 'entitled must be true or false'],
    [
        billing.bad_decimal('multiplier') ~ ' or ' ~ billing.bad_decimal('price'),
        'multiplier and price must be non-negative numbers'
    ],
    [
        "priority is not null and trim(priority) <> '' and " ~ billing.try_to_integer('priority') ~ " is null",
        'priority is not a whole number'
    ],
    ["upper(trim(type)) = 'MULTIPLIER' and " ~ billing.missing('multiplier'), 'a MULTIPLIER override needs a multiplier'],
    [
        "upper(trim(type)) = 'OVERWRITE' and " ~ billing.missing('price') ~ " and " ~ billing.missing('tiers'),
        'an OVERWRITE override needs a price or tiers'
    ],
    [
        billing.bad_enum('rate_type', ['FLAT', 'TIERED', 'VOLUME', 'PACKAGE']),
        'rate_type of an override must be FLAT, TIERED, VOLUME or PACKAGE'
    ],
    [
        "tiers is not null and trim(tiers) <> '' and not " ~ billing.json_is_array('tiers'),
        'tiers is not a JSON list of {size, price}'
    ],
] + billing.number_rules('multiplier', 'multiplier') + billing.number_rules('price', 'unit_price'),
'override_timestamps') }}
union all
{{ billing.config_problem(
    'contract_overrides', 'override_id',
    billing.duplicate_key('contract_overrides', 'override_id'),
    'override_id is not unique'
) }}
union all
{{ billing.config_problem(
    'contract_overrides', 'override_id',
    billing.unknown_reference('contract_id', 'contracts', 'contract_id'),
    'contract_id is not in contracts'
) }}
union all
{{ billing.config_problem(
    'contract_overrides', 'override_id',
    billing.unknown_reference('product_id', 'products', 'product_id', optional=true),
    'product_id is not in products'
) }}
union all
select distinct
    'contract_overrides.csv' as seed,
    overrides.override_id as row_key,
    'price of an override of COMPOSITE product ' || products.product_id
    || ' (a fraction) {{ billing.number_problem('fraction', 'bound') }}' as problem
from {{ ref('stg_contract_overrides') }} as overrides
inner join {{ ref('int_override_products') }} as override_products
    on overrides.override_id = override_products.override_id
inner join {{ ref('stg_products') }} as products
    on override_products.product_id = products.product_id
where
    products.product_type = 'COMPOSITE'
    and overrides.price >= {{ billing.catalog_number_rule('fraction')[1] }}
union all
select distinct
    'contract_overrides.csv' as seed,
    overrides.override_id as row_key,
    'an OVERWRITE of SUBSCRIPTION product ' || products.product_id
    || ' replaces its price: give a price, no tiers, and rate_type FLAT or empty' as problem
from {{ ref('stg_contract_overrides') }} as overrides
inner join {{ ref('int_override_products') }} as override_products
    on overrides.override_id = override_products.override_id
inner join {{ ref('stg_products') }} as products
    on override_products.product_id = products.product_id
where
    products.product_type = 'SUBSCRIPTION'
    and overrides.override_type = 'OVERWRITE'
    and (overrides.price is null or overrides.tiers is not null or coalesce(overrides.rate_type, 'FLAT') <> 'FLAT')
union all
select
    'contract_overrides.csv' as seed,
    price_source_id as row_key,
    problem
from {{ ref('int_catalog_tier_problems') }}
where price_source_id in (select overrides.override_id from {{ ref('stg_contract_overrides') }} as overrides)
