{#-
  Precision and magnitude of the catalog's numbers (DECISIONLOG D54, D55). A number with more
  decimal places than it is kept to would be rounded silently, and one beyond its bound could
  overflow DECIMAL(38) in the rating models; both are catalog problems naming seed, row and column.
  kind -> (decimal places kept, magnitude bound: a value must be below it, what to say of places).
-#}
{% macro catalog_number_rule(kind) -%}
{%- set rules = {
    'unit_price': (10, '1000000000', 'unit prices keep 10; price a larger unit instead, e.g. per GB with quantity_conversion_operation DIVIDE and quantity_conversion_factor 1e9'),
    'fraction': (10, '10', 'unit prices keep 10'),
    'multiplier': (10, '1000', 'multipliers keep 10'),
    'conversion_factor': (10, '10000000000000000', 'conversion factors keep 10'),
    'size': (10, '1000000000000000000', 'quantities keep 10'),
    'quantity': (10, '1000000000', 'quantities keep 10'),
    'amount': (billing.money_scale() | int, '1000000000000', 'the currency minor unit'),
} -%}
{{ return(rules[kind]) }}
{%- endmacro %}

{#- What is wrong with a number of a `kind`, after its name: its 'places' or its 'bound'. -#}
{% macro number_problem(kind, what) -%}
{%- set rule = billing.catalog_number_rule(kind) -%}
{%- if what == 'places' -%}
has more than {{ rule[0] }} decimal places ({{ rule[2] }})
{%- else -%}
must be below {{ rule[1] }} (larger values could overflow the exact arithmetic of amounts)
{%- endif -%}
{%- endmacro %}

{#- Text that is a number with more decimal places than a `kind` of catalog number keeps. -#}
{% macro too_precise(column, kind) -%}
{{ billing.has_more_decimal_places(column, billing.catalog_number_rule(kind)[0]) }}
{%- endmacro %}

{#- Text that is a number whose magnitude is not below the bound of its `kind`. -#}
{% macro too_large(column, kind) -%}
coalesce(abs({{ billing.try_to_decimal(column) }}) >= {{ billing.catalog_number_rule(kind)[1] }}, false)
{%- endmacro %}

{#-
  The rules of a numeric column of a `kind` for billing.row_problems: too many decimal places, too
  large. An amount's places depend on its contract's currency: billing.minor_unit_problems.
-#}
{% macro number_rules(column, kind) -%}
{%- set rules = [] -%}
{%- if kind != 'amount' -%}
    {%- do rules.append([billing.too_precise(column, kind), column ~ ' ' ~ billing.number_problem(kind, 'places')]) -%}
{%- endif -%}
{%- do rules.append([billing.too_large(column, kind), column ~ ' ' ~ billing.number_problem(kind, 'bound')]) -%}
{{ return(rules) }}
{%- endmacro %}

{#-
  Rows of `seed` whose money `column` has more decimal places than the minor unit of its contract's
  currency (0 for JPY, 3 for KWD, 2 for USD; D20). A row of an unknown contract is a problem already.
-#}
{% macro minor_unit_problems(seed, key_expr, column) -%}
select
    {{ billing.string_literal(seed ~ '.csv') }} as seed,
    cast({{ key_expr }} as {{ dbt.type_string() }}) as row_key,
    {{ billing.string_literal(column ~ ' has more than ') }}
    || cast(contract_currencies.minor_units as {{ dbt.type_string() }})
    || {{ billing.string_literal(' decimal places (the currency minor unit)') }} as problem
from {{ billing.catalog_relation(seed) }} as seed_rows
inner join {{ ref('int_contract_currencies') }} as contract_currencies
    on trim(seed_rows.contract_id) = contract_currencies.contract_id
where {{ billing.has_more_decimal_places('seed_rows.' ~ column, 'contract_currencies.minor_units') }}
{%- endmacro %}
