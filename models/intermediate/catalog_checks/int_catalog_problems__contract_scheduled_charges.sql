{#- Rows of seeds/contract_scheduled_charges.csv that break a catalog rule: (seed, row_key, problem). -#}
with charge_timestamps as (

    {{ billing.select_utc_timestamps(
        billing.catalog_relation('contract_scheduled_charges'),
        ['timestamp', 'ending_before']
    ) }}

)

{{ billing.row_problems('contract_scheduled_charges', 'scheduled_charge_id', [
    [billing.missing('scheduled_charge_id'), 'scheduled_charge_id is missing'],
    [
        billing.missing('timestamp') ~ ' or ' ~ billing.bad_timestamp('timestamp'),
        'timestamp is missing or not a valid timestamp'
    ],
    [
        billing.missing('amount') ~ ' or ' ~ billing.bad_decimal('amount'),
        'amount is missing or not a non-negative number'
    ],
    [
        billing.bad_enum('frequency', ['MONTHLY', 'QUARTERLY', 'ANNUAL']),
        'frequency must be MONTHLY, QUARTERLY, ANNUAL or empty'
    ],
    [billing.bad_timestamp('ending_before'), 'ending_before is not a valid timestamp'],
] + billing.number_rules('amount', 'amount'), 'charge_timestamps') }}
union all
{{ billing.minor_unit_problems('contract_scheduled_charges', 'scheduled_charge_id', 'amount') }}
union all
{{ billing.config_problem(
    'contract_scheduled_charges', 'scheduled_charge_id',
    billing.duplicate_key('contract_scheduled_charges', 'scheduled_charge_id'),
    'scheduled_charge_id is not unique'
) }}
union all
{{ billing.config_problem(
    'contract_scheduled_charges', 'scheduled_charge_id',
    billing.unknown_reference('contract_id', 'contracts', 'contract_id'),
    'contract_id is not in contracts'
) }}
union all
{{ billing.config_problem(
    'contract_scheduled_charges', 'scheduled_charge_id',
    billing.unknown_reference('product_id', 'products', 'product_id', optional=true),
    'product_id is not in products'
) }}
union all
select
    'contract_scheduled_charges.csv' as seed,
    charges.scheduled_charge_id as row_key,
    'timestamp is outside its contract' as problem
from {{ ref('stg_contract_scheduled_charges') }} as charges
inner join {{ ref('stg_contracts') }} as contracts
    on charges.contract_id = contracts.contract_id
where
    charges.scheduled_at < contracts.starting_at
    or (contracts.ending_before is not null and charges.scheduled_at >= contracts.ending_before)
