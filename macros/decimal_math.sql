{#-
  Exact decimal arithmetic that engines do not all provide. DuckDB divides DECIMALs as DOUBLE, so
  division goes through scaled HUGEINT integers there; results keep 10 decimal places.
-#}

{#- a / b rounded half-up to 10 places (a, b >= 0, b > 0). -#}
{% macro divide_exact(a, b) %}{{ return(adapter.dispatch('divide_exact', 'billing')(a, b)) }}{% endmacro %}
{% macro duckdb__divide_exact(a, b) -%}
cast(
    cast((cast(({{ a }}) * 10000000000 as hugeint) * 20000000000 + cast(({{ b }}) * 10000000000 as hugeint))
         // (2 * cast(({{ b }}) * 10000000000 as hugeint)) as decimal(38, 0))
    * cast('0.0000000001' as {{ billing.type_decimal() }}) as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro default__divide_exact(a, b) -%}
cast(round(cast({{ a }} as {{ billing.type_decimal() }}) / cast({{ b }} as {{ billing.type_decimal() }}), 10) as {{ billing.type_decimal() }})
{%- endmacro %}

{#- ceil(a / b) as a whole number, exactly (a >= 0, b > 0). -#}
{% macro ceil_divide(a, b) %}{{ return(adapter.dispatch('ceil_divide', 'billing')(a, b)) }}{% endmacro %}
{% macro duckdb__ceil_divide(a, b) -%}
cast((cast(({{ a }}) * 10000000000 as hugeint) + cast(({{ b }}) * 10000000000 as hugeint) - 1)
     // cast(({{ b }}) * 10000000000 as hugeint) as {{ billing.type_decimal() }})
{%- endmacro %}
{% macro default__ceil_divide(a, b) -%}
cast(ceil(cast({{ a }} as {{ billing.type_decimal() }}) / cast({{ b }} as {{ billing.type_decimal() }})) as {{ billing.type_decimal() }})
{%- endmacro %}

{#-
  Round a non-negative quantity to `places` (a column, 0 to 10) by `method`: ROUND_UP (ceiling),
  ROUND_DOWN (floor) or ROUND_HALF_UP. NULL places leave the value as it is.
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
