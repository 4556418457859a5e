{#- Rows of seeds/products.csv that break a catalog rule: (seed, row_key, problem). -#}
{{ billing.row_problems('products', 'product_id', [
    [billing.missing('product_id'), 'product_id is missing'],
    [
        billing.bad_enum('type', ['USAGE', 'SUBSCRIPTION', 'COMPOSITE', 'FIXED'], required=true),
        'type must be USAGE, SUBSCRIPTION, COMPOSITE or FIXED'
    ],
    ["upper(trim(type)) = 'USAGE' and " ~ billing.missing('billable_metric'), 'a USAGE product needs a billable_metric'],
    [billing.bad_string_list('tags'), 'tags is not a JSON list of strings'],
    [
        billing.bad_decimal('quantity_conversion_factor'),
        'quantity_conversion_factor is not a non-negative number'
    ],
    [
        billing.bad_enum('quantity_conversion_operation', ['MULTIPLY', 'DIVIDE']),
        'quantity_conversion_operation must be MULTIPLY or DIVIDE'
    ],
    [
        billing.bad_enum('quantity_rounding_method', ['ROUND_UP', 'ROUND_DOWN', 'ROUND_HALF_UP']),
        'quantity_rounding_method must be ROUND_UP, ROUND_DOWN or ROUND_HALF_UP'
    ],
    [
        "upper(trim(quantity_conversion_operation)) in ('MULTIPLY', 'DIVIDE') and coalesce("
        ~ billing.try_to_decimal('quantity_conversion_factor') ~ " <= 0, true)",
        'quantity_conversion_factor must be above 0 when an operation is given'
    ],
    [
        "quantity_rounding_decimal_places is not null and trim(quantity_rounding_decimal_places) <> '' and coalesce("
        ~ billing.try_to_integer('quantity_rounding_decimal_places') ~ " not between 0 and 10, true)",
        'quantity_rounding_decimal_places must be a whole number from 0 to 10'
    ],
    [
        "upper(trim(type)) = 'COMPOSITE' and " ~ billing.missing_list('composite_product_ids') ~ " and "
        ~ billing.missing_list('composite_tags'),
        'a COMPOSITE product needs composite_product_ids or composite_tags'
    ],
    [
        billing.bad_string_list('composite_product_ids') ~ " or " ~ billing.bad_string_list('composite_tags'),
        'composite_product_ids and composite_tags must be JSON lists of strings'
    ],
    [
        billing.bad_string_list('pricing_group_key') ~ " or " ~ billing.bad_string_list('presentation_group_key'),
        'pricing_group_key and presentation_group_key must be JSON lists of strings'
    ],
] + billing.number_rules('quantity_conversion_factor', 'conversion_factor')) }}
union all
{{ billing.config_problem(
    'products', 'product_id',
    billing.duplicate_key('products', 'product_id'),
    'product_id is not unique'
) }}
union all
{{ billing.config_problem(
    'products', 'product_id',
    "billable_metric is not null and trim(billable_metric) <> ''"
    ~ " and trim(billable_metric) not in (select billable_metric from " ~ ref('int_billable_metrics') ~ ")",
    none,
    problem_sql=billing.string_literal("billable_metric '") ~ " || trim(billable_metric) || "
    ~ billing.string_literal("' is not defined in billable_metrics.yml")
) }}
