{#- Rows of seeds/rate_card_rates.csv that break a catalog rule: (seed, row_key, problem). -#}
{%- set key = "coalesce(rate_card_id, '') || '/' || coalesce(product_id, '') || '/' || coalesce(starting_at, '')" -%}
with rate_timestamps as (

    {{ billing.select_utc_timestamps(billing.catalog_relation('rate_card_rates'), ['starting_at', 'ending_before']) }}

)

{{ billing.row_problems('rate_card_rates', key, [
    [
        billing.missing('starting_at') ~ ' or ' ~ billing.bad_timestamp('starting_at'),
        'starting_at is missing or not a valid timestamp'
    ],
    [billing.bad_timestamp('ending_before'), 'ending_before is not a valid timestamp'],
    ['ending_before_utc <= starting_at_utc', 'ending_before is not after starting_at'],
    [billing.bad_boolean('entitled'), 'entitled must be true or false'],
    [
        billing.bad_enum('rate_type', ['FLAT', 'TIERED', 'VOLUME', 'PACKAGE', 'PERCENTAGE', 'SUBSCRIPTION'], required=true),
        'rate_type must be FLAT, TIERED, VOLUME, PACKAGE, PERCENTAGE or SUBSCRIPTION'
    ],
    [billing.bad_decimal('price'), 'price is not a non-negative number'],
    [
        "upper(trim(rate_type)) = 'PERCENTAGE' and " ~ billing.too_large('price', 'fraction'),
        'price of a PERCENTAGE rate (a fraction) ' ~ billing.number_problem('fraction', 'bound')
    ],
    ["upper(trim(rate_type)) = 'FLAT' and " ~ billing.missing('price'), 'a FLAT rate needs a price'],
    [
        billing.bad_enum('billing_frequency', ['MONTHLY', 'QUARTERLY', 'ANNUAL']),
        'billing_frequency must be MONTHLY, QUARTERLY or ANNUAL'
    ],
    [
        "upper(trim(rate_type)) in ('TIERED', 'VOLUME') and (" ~ billing.missing('tiers') ~ " or not "
        ~ billing.json_is_array('tiers') ~ ")",
        'a TIERED or VOLUME rate needs tiers, a JSON list of {size, price}'
    ],
    [
        "upper(trim(rate_type)) = 'PACKAGE' and (" ~ billing.missing('price') ~ " or " ~ billing.missing('package_size')
        ~ " or coalesce(" ~ billing.try_to_decimal('package_size') ~ " <= 0, true))",
        'a PACKAGE rate needs a price and a package_size above 0'
    ],
    ["upper(trim(rate_type)) = 'SUBSCRIPTION' and " ~ billing.missing('price'), 'a SUBSCRIPTION rate needs a price'],
    [
        "upper(trim(rate_type)) = 'PERCENTAGE' and " ~ billing.missing('price'),
        'a PERCENTAGE rate needs a price (the fraction)'
    ],
] + billing.number_rules('price', 'unit_price') + billing.number_rules('package_size', 'size'), 'rate_timestamps') }}
union all
{{ billing.config_problem(
    'rate_card_rates', key,
    billing.unknown_reference('rate_card_id', 'rate_cards', 'rate_card_id'),
    'rate_card_id is not in rate_cards'
) }}
union all
{{ billing.config_problem(
    'rate_card_rates', key,
    billing.unknown_reference('product_id', 'products', 'product_id'),
    'product_id is not in products'
) }}
union all
select
    'rate_card_rates.csv' as seed,
    a.rate_card_id || '/' || a.product_id || '/' || {{ billing.timestamp_key('a.starting_at') }} as row_key,
    'overlaps the rate starting '
    || {{ billing.timestamp_key('b.starting_at') }}
    || ' for the same product and pricing group' as problem
from {{ ref('stg_rate_card_rates') }} as a
inner join {{ ref('stg_rate_card_rates') }} as b
    on
        a.rate_card_id = b.rate_card_id
        and a.product_id = b.product_id
left join {{ ref('int_catalog_group_values') }} as a_group
    on
        a.product_id = a_group.product_id
        and a.pricing_group_values = a_group.source_values
left join {{ ref('int_catalog_group_values') }} as b_group
    on
        b.product_id = b_group.product_id
        and b.pricing_group_values = b_group.source_values
where
    coalesce(a_group.pricing_group_values, a.pricing_group_values, '')
    = coalesce(b_group.pricing_group_values, b.pricing_group_values, '')
    and a.rate_id <> b.rate_id
    and a.starting_at <= b.starting_at
    and (a.ending_before is null or b.starting_at < a.ending_before)
union all
select
    'rate_card_rates.csv' as seed,
    rates.rate_card_id || '/' || rates.product_id || '/' || {{ billing.timestamp_key('rates.starting_at') }} as row_key,
    problems.problem
from {{ ref('int_catalog_tier_problems') }} as problems
inner join {{ ref('stg_rate_card_rates') }} as rates
    on problems.price_source_id = rates.rate_id
union all
select
    'rate_card_rates.csv' as seed,
    rates.rate_card_id || '/' || rates.product_id || '/' || {{ billing.timestamp_key('rates.starting_at') }} as row_key,
    'rate_type ' || rates.rate_type || ' does not fit a ' || products.product_type || ' product' as problem
from {{ ref('stg_rate_card_rates') }} as rates
inner join {{ ref('stg_products') }} as products
    on rates.product_id = products.product_id
where
    (rates.rate_type = 'PERCENTAGE') <> (products.product_type = 'COMPOSITE')
    or (rates.rate_type = 'SUBSCRIPTION') <> (products.product_type = 'SUBSCRIPTION')
