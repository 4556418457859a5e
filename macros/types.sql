{#- Portable types. Quantities and unit prices keep 10 decimal places; amounts are money (3 places, D70). -#}
{% macro type_decimal() %}{{ return(adapter.dispatch('type_decimal', 'billing')()) }}{% endmacro %}
{% macro default__type_decimal() %}decimal(38, 10){% endmacro %}
{#- An expression as a quantity or unit price: DECIMAL(38, 10). Example: cast_decimal('a * b') -> cast(a * b as decimal(38, 10)) -#}
{% macro cast_decimal(expr) %}cast({{ expr }} as {{ billing.type_decimal() }}){% endmacro %}

{% macro type_money() %}{{ return(adapter.dispatch('type_money', 'billing')()) }}{% endmacro %}
{% macro default__type_money() %}decimal(38, {{ billing.money_scale() }}){% endmacro %}
{#- The places money columns keep: the finest minor unit a rate card's currency may have (D70). -#}
{% macro money_scale() %}3{% endmacro %}

{#- The text of a number: ASCII digits with an optional sign, point and exponent (DECISIONLOG D38). -#}
{% macro number_pattern() %}{{ return("[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?") }}{% endmacro %}

{#-
  Parse a text value as a decimal; NULL when it is not a number (or overflows). A number is ASCII
  digits with an optional sign, point and exponent (1, -2.5, .5, 1e3), the same on every engine.
  With `below`, also NULL when its magnitude is not below that bound (the text is matched once).
-#}
{% macro try_to_decimal(expr, below=none) %}{{ return(adapter.dispatch('try_to_decimal', 'billing')(expr, below)) }}{% endmacro %}
{% macro default__try_to_decimal(expr, below=none) -%}
{%- set number = 'try_cast(trim(' ~ expr ~ ') as ' ~ billing.type_decimal() ~ ')' -%}
case when {{ billing.matches_pattern('trim(' ~ expr ~ ')', billing.number_pattern()) }}
    then {% if below is none %}{{ number }}{% else %}case when abs({{ number }}) < {{ below }} then {{ number }} end{% endif %} end
{%- endmacro %}

{#- A whole number: ASCII digits with an optional sign (Spark would truncate 1.5 to 1). -#}
{% macro try_to_integer(expr) %}{{ return(adapter.dispatch('try_to_integer', 'billing')(expr)) }}{% endmacro %}
{% macro default__try_to_integer(expr) -%}
case when {{ billing.matches_pattern('trim(' ~ expr ~ ')', '[+-]?[0-9]+') }} then try_cast(trim({{ expr }}) as {{ dbt.type_int() }}) end
{%- endmacro %}

{#-
  True when the text is a number (as try_to_decimal reads it) whose exact value has more than
  `places` decimal places, counted on the text since a cast would round: 1.5e-10 has 11, 100e-12
  has 10, 12.3400 has 2, 0e-50 has 0. An exponent too large for an integer counts as more.
-#}
{% macro has_more_decimal_places(expr, places) -%}
{%- set text = 'trim(' ~ expr ~ ')' -%}
{%- set fraction = 'regexp_extract(' ~ text ~ ", '^[^eE]*[.]([0-9]*)', 1)" -%}
{%- set digits = 'regexp_extract(' ~ text ~ ", '^[+-]?([0-9]*)', 1) || " ~ fraction -%}
{%- set exponent = 'regexp_extract(' ~ text ~ ", '[eE]([+-]?[0-9]+)$', 1)" -%}
({{ billing.matches_pattern(text, '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?') }}
    and not {{ billing.matches_pattern(text, '[+-]?[0.]*([eE][+-]?[0-9]+)?') }}
    and coalesce(length({{ fraction }}) - length(regexp_extract({{ digits }}, '0*$', 0))
        - case when {{ exponent }} = '' then 0 else {{ billing.try_to_integer(exponent) }} end > {{ places }}, true))
{%- endmacro %}

{#- 'true'/'false' (any case) to boolean; anything else NULL. -#}
{% macro to_boolean(expr) -%}
case lower(trim({{ expr }})) when 'true' then true when 'false' then false end
{%- endmacro %}

{#-
  ISO 4217 minor units (list one, current codes) of the currencies whose minor unit is not 2
  decimal places (DECISIONLOG D20). billing_cli/currency.py keeps the same table for documents,
  exports and Stripe; tests/test_currency.py checks that they agree.
-#}
{% macro currency_minor_unit_exceptions() -%}
{{ return({
    0: ['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'],
    3: ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'],
    4: ['CLF', 'UYW'],
}) }}
{%- endmacro %}

{#- The minor unit (decimal places) of an upper-case ISO 4217 code: 0 JPY, 3 KWD, 2 USD and the rest. -#}
{% macro currency_minor_units(currency) -%}
case
    {%- for places, codes in billing.currency_minor_unit_exceptions().items() %}
    when {{ currency }} in ('{{ codes | join("', '") }}') then {{ places }}
    {%- endfor %}
    else 2
end
{%- endmacro %}

{#-
  Money: ROUND_HALF_UP (away from zero) to the minor unit of `currency` (an upper-case ISO 4217
  code; D20), as money (D70). A CASE over the constant scales, since a per-row scale in round() is
  not portable. A currency finer than money_scale() is a catalog problem, so it never gets here.
-#}
{% macro round_money(expr, currency) %}{{ return(adapter.dispatch('round_money', 'billing')(expr, currency)) }}{% endmacro %}
{% macro default__round_money(expr, currency) -%}
{%- set exceptions = billing.currency_minor_unit_exceptions() -%}
case
    {%- for places in exceptions if places <= billing.money_scale() | int %}
    when {{ currency }} in ('{{ exceptions[places] | join("', '") }}') then cast(round({{ expr }}, {{ places }}) as {{ billing.type_money() }})
    {%- endfor %}
    else cast(round({{ expr }}, 2) as {{ billing.type_money() }})
end
{%- endmacro %}

{#-
  A metric value read from an event property (DECISIONLOG D56): any number (D38's shape) whose
  magnitude is below metric_value_bound(), negative ones included (corrections), rounded half-up
  (away from zero) to 10 decimal places; NULL otherwise, and the event is rejected with
  metric_value_rejection(): `non_numeric_value` for text that is not a number,
  `value_out_of_range` for a number at or beyond the bound (or beyond DECIMAL(38, 10)).
-#}
{% macro metric_value_bound() %}1000000000000000{% endmacro %}

{% macro to_metric_number(expr) -%}
{{ billing.try_to_decimal(expr, below=billing.metric_value_bound()) }}
{%- endmacro %}

{% macro metric_value_rejection(expr) -%}
case
    when {{ billing.to_metric_number(expr) }} is not null then null
    when {{ billing.matches_pattern('trim(' ~ expr ~ ')', billing.number_pattern()) }} then 'value_out_of_range'
    else 'non_numeric_value'
end
{%- endmacro %}
