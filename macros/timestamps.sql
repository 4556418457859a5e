{#-
  Parse an RFC 3339 string (offsets honoured, converted to UTC), a 'YYYY-MM-DD HH:MM:SS' string
  (UTC) or a bare date (midnight UTC) into a UTC timestamp without time zone. NULL when invalid.
  Only these shapes are read, on every engine (`T`/`Z` in either case, fractions truncated to
  microseconds): engine casts also accept other texts, differently (Spark reads `2025-01` and a
  bare time of day, DuckDB `2025/01/05`). Casting straight to timestamp would drop the offset, so
  DuckDB goes through timestamptz; Spark's cast honours it (session time zone UTC, see profiles).
-#}
{% macro parse_utc_timestamp(expr) %}{{ return(adapter.dispatch('parse_utc_timestamp', 'billing')(expr)) }}{% endmacro %}

{% macro timestamp_text(expr) -%}
upper(trim(cast({{ expr }} as {{ dbt.type_string() }})))
{%- endmacro %}

{% macro is_timestamp_text(expr) -%}
{{ billing.matches_pattern(billing.timestamp_text(expr),
    '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?') }}
{%- endmacro %}

{% macro duckdb__parse_utc_timestamp(expr) -%}
(case when {{ billing.is_timestamp_text(expr) }}
    then try_cast({{ billing.timestamp_text(expr) }} as timestamptz) at time zone 'UTC' end)
{%- endmacro %}

{% macro default__parse_utc_timestamp(expr) -%}
(case when {{ billing.is_timestamp_text(expr) }}
    then to_utc_timestamp(try_cast({{ billing.timestamp_text(expr) }} as timestamp), 'UTC') end)
{%- endmacro %}

{#- The instant statuses are evaluated at: var billing_as_of, else the build's start (UTC). -#}
{% macro as_of() -%}
{%- set v = var('billing_as_of', none) -%}
{%- if v is none or v == '' -%}
cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- else -%}
{%- set text = (v | string | trim).replace('z', 'Z').replace('t', 'T') -%}
{%- if text | length == 10 %}{% set text = text ~ 'T00:00:00Z' %}{% endif -%}
{%- set parsed = none -%}
{%- set m = modules.re.fullmatch('(\\d{4})-(\\d{2})-(\\d{2})[T ](\\d{2}):(\\d{2}):(\\d{2})(\\.\\d{1,6})?(Z|[+-](\\d{2}):(\\d{2}))?', text) -%}
{%- if m -%}
{%- set year, month, day = m.group(1) | int, m.group(2) | int, m.group(3) | int -%}
{%- set in_range = year >= 1 and 1 <= month <= 12 and m.group(4) | int <= 23 and m.group(5) | int <= 59
        and m.group(6) | int <= 59 and (m.group(9) is none or (m.group(9) | int <= 23 and m.group(10) | int <= 59)) -%}
{%- if in_range -%}
{%- set last_day = 31 if month == 12 else (modules.datetime.date(year, month + 1, 1) - modules.datetime.timedelta(days=1)).day -%}
{%- if 1 <= day <= last_day -%}
{%- set parsed = modules.datetime.datetime.fromisoformat(text.replace('Z', '+00:00')) -%}
{%- endif -%}
{%- endif -%}
{%- endif -%}
{%- if parsed is none -%}
{{ exceptions.raise_compiler_error("var billing_as_of " ~ (v | string) ~ " is not an RFC 3339 timestamp (e.g. 2025-02-03T00:00:00Z)") }}
{%- endif -%}
{%- if parsed.tzinfo is not none -%}
{%- set parsed = parsed.astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
{%- endif -%}
cast('{{ parsed.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endif -%}
{%- endmacro %}

{% macro add_months(expr, n) -%}{{ dbt.dateadd('month', n, expr) }}{%- endmacro %}
{% macro add_hours(expr, n) -%}{{ dbt.dateadd('hour', n, expr) }}{%- endmacro %}
{% macro add_days(expr, n) -%}{{ dbt.dateadd('day', n, expr) }}{%- endmacro %}

{#- Months in a billing frequency. -#}
{% macro frequency_months(expr) -%}
case upper({{ expr }}) when 'MONTHLY' then 1 when 'QUARTERLY' then 3 when 'ANNUAL' then 12 end
{%- endmacro %}

{#- Format a timestamp as text for keys and ids, to the microsecond: 'YYYY-MM-DD HH:MM:SS.ffffff'. -#}
{% macro timestamp_key(expr) %}{{ return(adapter.dispatch('timestamp_key', 'billing')(expr)) }}{% endmacro %}
{% macro duckdb__timestamp_key(expr) %}strftime({{ expr }}, '%Y-%m-%d %H:%M:%S.%f'){% endmacro %}
{% macro default__timestamp_key(expr) %}date_format({{ expr }}, 'yyyy-MM-dd HH:mm:ss.SSSSSS'){% endmacro %}

{#- Where a contract's periods start counting (semantics 3): its start, or the first of its month. -#}
{% macro period_anchor_at(usage_statement_day, contract_starting_at) -%}
case
    when {{ usage_statement_day }} = 'CONTRACT_START' then {{ contract_starting_at }}
    else {{ dbt.date_trunc('month', contract_starting_at) }}
end
{%- endmacro %}
