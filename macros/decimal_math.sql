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

{#- a / b rounded half-up (away from zero) to 10 places (b > 0, |a| and b below max_carried()). -#}
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

{#- ceil(a / b) as a whole number, exactly (a >= 0, b > 0, both below max_carried()). -#}
{% macro ceil_divide(a, b) %}{{ return(adapter.dispatch('ceil_divide', 'billing')(a, b)) }}{% endmacro %}
{% macro duckdb__ceil_divide(a, b) -%}
cast((cast(({{ a }}) * 10000000000 as hugeint) + cast(({{ b }}) * 10000000000 as hugeint) - 1)
     // cast(({{ b }}) * 10000000000 as hugeint) as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro default__ceil_divide(a, b) -%}
cast(ceil(cast({{ a }} as {{ billing.type_decimal() }}) / cast({{ b }} as {{ billing.type_decimal() }})) as {{ billing.type_decimal() }})
{%- endmacro %}

{#-
  Round a quantity to `places` (a column, 0 to 10) by `method`: ROUND_UP (ceiling),
  ROUND_DOWN (floor) or ROUND_HALF_UP (half away from zero). NULL places leave the value as it is.
-#}
{% macro round_quantity(expr, places, method) -%}
case
    when {{ places }} is null then {{ expr }}
    {%- for p in range(0, 11) %}
    {%- set step = "cast('" ~ ("1" if p == 0 else "0." ~ "0" * (p - 1) ~ "1") ~ "' as " ~ billing.type_decimal() ~ ")" %}
    when {{ places }} = {{ p }} then cast(case {{ method }}
        when 'ROUND_UP' then case when round({{ expr }}, {{ p }}) < {{ expr }}
                                  then round({{ expr }}, {{ p }}) + {{ step }} else round({{ expr }}, {{ p }}) end
        when 'ROUND_DOWN' then case when round({{ expr }}, {{ p }}) > {{ expr }}
                                  then round({{ expr }}, {{ p }}) - {{ step }} else round({{ expr }}, {{ p }}) end
        else round({{ expr }}, {{ p }})
    end as {{ billing.type_decimal() }})
    {%- endfor %}
    else {{ expr }}
end
{%- endmacro %}
