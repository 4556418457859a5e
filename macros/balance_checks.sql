{#-
  Catalog rules shared by contract_commits.csv and contract_credits.csv (the balances of
  DATA_CONTRACT semantics 8), as config problems: (seed, row_key, problem). `timestamps` names a
  CTE of the seed's rows with access_starting_at_utc and access_ending_before_utc
  (`billing.select_utc_timestamps`); `extra_rules` are more [condition, problem] pairs on its rows
  (billing.row_problems).
-#}
{% macro balance_problems(seed, key, timestamps, extra_rules=[]) -%}
{{ billing.row_problems(seed, key, [
    [billing.missing(key), key ~ ' is missing'],
    [billing.missing('amount') ~ ' or ' ~ billing.bad_decimal('amount'), 'amount is missing or not a non-negative number'],
    [
        billing.missing('access_starting_at') ~ ' or ' ~ billing.bad_timestamp('access_starting_at'),
        'access_starting_at is missing or not a valid timestamp'
    ],
    [billing.bad_timestamp('access_ending_before'), 'access_ending_before is not a valid timestamp'],
    ['access_ending_before_utc <= access_starting_at_utc', 'access_ending_before is not after access_starting_at'],
    [billing.bad_string_list('applicable_product_ids'), 'applicable_product_ids is not a JSON list of strings'],
    [billing.bad_string_list('applicable_product_tags'), 'applicable_product_tags is not a JSON list of strings'],
    [
        "priority is not null and trim(priority) <> '' and " ~ billing.try_to_integer('priority') ~ " is null",
        'priority is not a whole number'
    ],
] + billing.number_rules('amount', 'amount') + extra_rules, timestamps) }}
union all
{{ billing.minor_unit_problems(seed, key, 'amount') }}
union all
{{ billing.config_problem(seed, key, billing.duplicate_key(seed, key), key ~ ' is not unique') }}
union all
{{ billing.config_problem(seed, key, billing.unknown_reference('contract_id', 'contracts', 'contract_id'), 'contract_id is not in contracts') }}
union all
{{ billing.config_problem(seed, key, billing.unknown_reference('product_id', 'products', 'product_id', optional=true), 'product_id is not in products') }}
{%- endmacro %}
