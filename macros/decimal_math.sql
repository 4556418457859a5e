{#-
  Exact decimal arithmetic that engines do not all provide. DuckDB divides DECIMALs as DOUBLE, so
  division goes through scaled HUGEINT integers there; results keep 10 decimal places.
-#}

{#-
  What rating carries (DECISIONLOG D57): every converted quantity and every product of rating
  (quantity x factor, quantity x price, tier width x tier price, tier price x multiplier) must be
  of magnitude below 10^17, and so must a quantity that is divided (DIVIDE conversion, PACKAGE).
  DuckDB multiplies DECIMAL(38, 10) by DECIMAL(38, 10) at scale 20, which raises beyond 10^18, and
  Spark returns NULL; so the bound is checked before the exact product, in DOUBLE (relative error
  about 1e-16: whatever passes is far below 10^18 exactly).
-#}
{% macro max_carried() %}1e17{% endmacro %}

{#- True when |a x b| is below max_carried() (a NULL operand: true, the product is NULL anyway). -#}
{% macro product_fits(a, b) -%}
coalesce(abs(cast({{ a }} as double)) * abs(cast({{ b }} as double)) < {{ billing.max_carried() }}, true)
{%- endmacro %}

{#-
  Exact products and quotients on every engine (DECISIONLOG D59). DuckDB and most engines multiply
  DECIMALs exactly; Spark, with its default spark.sql.decimalOperations.allowPrecisionLoss=true,
  types DECIMAL(38, 10) x DECIMAL(38, 10) as DECIMAL(38, 6) and rounds the product there, and with
  the setting false it types the quotient of two DECIMAL(38, 10) with no more than 20 integer
  digits. So on Spark (and Databricks) the macros below compute on integers: a number with
  `places` places times 10^places is a DECIMAL(38, 0), and Spark multiplies, adds, takes `%` and
  `div` of DECIMAL(38, 0) values exactly under either setting (an integer result keeps scale 0,
  `%` and `div` are exact); the result's digits are then read back at its scale.
-#}

{#- a x b exactly, at a_places + b_places places (a and b with at most that many places each, and
    |a x b| below 10^(38 - a_places - b_places): 10^18 for two 10-place numbers, as on DuckDB). -#}
{% macro multiply_exact(a, b, a_places=10, b_places=10) %}{{ return(adapter.dispatch('multiply_exact', 'billing')(a, b, a_places, b_places)) }}{% endmacro %}
{% macro default__multiply_exact(a, b, a_places, b_places) -%}
(cast({{ a }} as decimal(38, {{ a_places }})) * cast({{ b }} as decimal(38, {{ b_places }})))
{%- endmacro %}
{% macro spark__multiply_exact(a, b, a_places, b_places) -%}
{{ billing.spark_unscaled(billing.spark_scaled_integer(a, a_places) ~ ' * ' ~ billing.spark_scaled_integer(b, b_places), a_places + b_places) }}
{%- endmacro %}
{% macro databricks__multiply_exact(a, b, a_places, b_places) %}{{ return(billing.spark__multiply_exact(a, b, a_places, b_places)) }}{% endmacro %}

{#- a / b rounded half-up (away from zero) to 10 places (b > 0 and below 10^16, |a| below max_carried()). -#}
{% macro divide_exact(a, b) %}{{ return(adapter.dispatch('divide_exact', 'billing')(a, b)) }}{% endmacro %}
{% macro duckdb__divide_exact(a, b) -%}
{%- set scaled_b = 'cast((' ~ b ~ ') * 10000000000 as hugeint)' -%}
{#- the quotient of |a|, signed after: HUGEINT // truncates, which would round a negative toward zero -#}
cast(
    case when ({{ a }}) < 0 then -1 else 1 end
    * cast((cast(abs({{ a }}) * 10000000000 as hugeint) * 20000000000 + {{ scaled_b }})
         // (2 * {{ scaled_b }}) as decimal(38, 0))
    * cast('0.0000000001' as {{ billing.type_decimal() }}) as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro default__divide_exact(a, b) -%}
cast(round(cast({{ a }} as {{ billing.type_decimal() }}) / cast({{ b }} as {{ billing.type_decimal() }}), 10) as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro spark__divide_exact(a, b) -%}
{%- set division = billing.spark_integer_division('abs(' ~ a ~ ')', b) -%}
{#- the quotient's 10 places: the remainder over the divisor, rounded half-up, as an integer (10^10 at most) -#}
{%- set places = '((' ~ division.remainder ~ ' * 20000000000 + ' ~ division.divisor ~ ') div (2 * ' ~ division.divisor ~ '))' -%}
{{ billing.spark_unscaled('(case when (' ~ a ~ ') < 0 then -1 else 1 end * (' ~ division.quotient ~ ' * 10000000000 + ' ~ places ~ '))', 10) }}
{%- endmacro %}
{% macro databricks__divide_exact(a, b) %}{{ return(billing.spark__divide_exact(a, b)) }}{% endmacro %}

{#- ceil(a / b) as a whole number, exactly (a >= 0, b > 0 and below 10^18, a below max_carried()). -#}
{% macro ceil_divide(a, b) %}{{ return(adapter.dispatch('ceil_divide', 'billing')(a, b)) }}{% endmacro %}
{% macro duckdb__ceil_divide(a, b) -%}
cast((cast(({{ a }}) * 10000000000 as hugeint) + cast(({{ b }}) * 10000000000 as hugeint) - 1)
     // cast(({{ b }}) * 10000000000 as hugeint) as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro default__ceil_divide(a, b) -%}
cast(ceil(cast({{ a }} as {{ billing.type_decimal() }}) / cast({{ b }} as {{ billing.type_decimal() }})) as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro spark__ceil_divide(a, b) -%}
{%- set division = billing.spark_integer_division(a, b) -%}
cast({{ division.quotient }} + case when {{ division.remainder }} > 0 then 1 else 0 end as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro databricks__ceil_divide(a, b) %}{{ return(billing.spark__ceil_divide(a, b)) }}{% endmacro %}

{#- a + b exactly, for numbers of at most 10 places below 10^27 (quantities, tier bounds): Spark
    types DECIMAL(38, 10) + DECIMAL(38, 10) with 39 digits and rounds the sum to 9 places. -#}
{% macro add_exact(a, b) %}{{ return(adapter.dispatch('add_exact', 'billing')(a, b)) }}{% endmacro %}
{% macro default__add_exact(a, b) %}({{ a }} + {{ b }}){% endmacro %}
{% macro spark__add_exact(a, b) %}(cast({{ a }} as decimal(37, 10)) + cast({{ b }} as decimal(37, 10))){% endmacro %}
{% macro databricks__add_exact(a, b) %}{{ return(billing.spark__add_exact(a, b)) }}{% endmacro %}

{#- Spark: x x 10^places as a DECIMAL(38, 0), exactly (x with at most `places` places, below
    10^(38 - places)): its whole part and its fraction scaled separately, since x x 10^places would
    be typed, and rounded, at fewer places. -#}
{% macro spark_scaled_integer(x, places) -%}
{%- set value = 'cast(' ~ x ~ ' as decimal(38, ' ~ places ~ '))' -%}
{%- set power = '1' ~ '0' * places -%}
(cast({{ value }} - {{ value }} % 1 as decimal(38, 0)) * {{ power }} + cast({{ value }} % 1 * {{ power }} as decimal(38, 0)))
{%- endmacro %}

{#- Spark: the DECIMAL(38, 0) n read as n x 10^-places, as DECIMAL(38, places), exactly: by its
    digits (zeros put before them, a point before the last `places`), since Spark types every
    arithmetic route (n / 10^places, whole part + fraction) with more than 38 digits and rounds it
    to fewer places. -#}
{% macro spark_unscaled(n, places) -%}
{%- set padded = "regexp_replace(cast(" ~ n ~ " as string), '([0-9]+)$', '" ~ "0" * places ~ "$1')" -%}
cast(regexp_replace({{ padded }}, '([0-9]{{ '{' ~ places ~ '}' }})$', '.$1') as decimal(38, {{ places }}))
{%- endmacro %}

{#-
  Spark: a / b (a >= 0, b > 0, both with at most 10 places, a / b below 10^27 and b below 10^18) as
  its whole part `quotient` (a DECIMAL(38, 0)) and `remainder` = (a - quotient x b) x 10^10, with
  `divisor` = b x 10^10. `div` returns a BIGINT (below 9.2 x 10^18), so the whole part is found in
  two steps, of at most 10^17 and 10^10.
-#}
{% macro spark_integer_division(a, b) -%}
{%- set dividend = billing.spark_scaled_integer(a, 10) -%}
{%- set divisor = billing.spark_scaled_integer(b, 10) -%}
{%- set high_divisor = '(' ~ divisor ~ ' * 10000000000)' -%}
{{ return({
    'quotient': '(cast(' ~ dividend ~ ' div ' ~ high_divisor ~ ' as decimal(38, 0)) * 10000000000 + (('
                ~ dividend ~ ' % ' ~ high_divisor ~ ') div ' ~ divisor ~ '))',
    'remainder': '(' ~ dividend ~ ' % ' ~ divisor ~ ')',
    'divisor': divisor,
}) }}
{%- endmacro %}

{#-
  Round a quantity to `places` (a column, 0 to 10) by `method`: ROUND_UP (ceiling),
  ROUND_DOWN (floor) or ROUND_HALF_UP (half away from zero). NULL places leave the value as it is.
-#}
{% macro round_quantity(expr, places, method) -%}
case
    when {{ places }} is null then {{ expr }}
    {%- for p in range(0, 11) %}
    {%- set step = ("1" if p == 0 else "0." ~ "0" * (p - 1) ~ "1") %}
    {%- set rounded = "round(" ~ expr ~ ", " ~ p ~ ")" %}
    when {{ places }} = {{ p }} then cast(case {{ method }}
        when 'ROUND_UP' then case when {{ rounded }} < {{ expr }}
                                  then {{ billing.add_exact(rounded, "cast('" ~ step ~ "' as " ~ billing.type_decimal() ~ ")") }} else {{ rounded }} end
        when 'ROUND_DOWN' then case when {{ rounded }} > {{ expr }}
                                  then {{ billing.add_exact(rounded, "cast('-" ~ step ~ "' as " ~ billing.type_decimal() ~ ")") }} else {{ rounded }} end
        else round({{ expr }}, {{ p }})
    end as {{ billing.type_decimal() }})
    {%- endfor %}
    else {{ expr }}
end
{%- endmacro %}
