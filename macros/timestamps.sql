{#-
  RFC 3339 timestamps in two steps, so that each text is read once per row (DECISIONLOG D46, D38):
  a CTE computes `timestamp_parts(column)`, the next one `utc_timestamp_from_parts(that column)`,
  a UTC timestamp without time zone, NULL when invalid. Read on every engine alike: an RFC 3339
  string (offsets honoured), a 'YYYY-MM-DD HH:MM:SS' string (UTC) or a bare date (midnight UTC);
  `T`/`Z` in either case, fractions truncated to microseconds. Engine casts also accept other
  texts, differently (Spark reads `2025-01` and a bare time of day, DuckDB `2025/01/05`, hour 24
  and offsets beyond 23:59; Spark refuses offsets beyond 18:00, which RFC 3339 allows). So the
  pattern checks the fields' ranges (hour 00-23, minute 00-59, second 00-60, offset up to 23:59)
  before any cast. A leap second (second 60) is valid only in the last minute of a UTC day and is
  read as 23:59:59.999999 UTC of that day.
-#}
{% macro timestamp_text(expr) -%}
upper(trim(cast({{ expr }} as {{ dbt.type_string() }})))
{%- endmacro %}

{% macro timestamp_pattern() -%}
[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)([.][0-9]+)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?
{%- endmacro %}

{#-
  The parts of a timestamp: its text, upper-cased and trimmed, when it has one of the shapes above
  with every field in range; NULL otherwise. The text appears once (one regexp_extract): the whole
  text matches, else the extract is ''. Spark anchors at `\z`, as Java's `$` also matches before
  a final line break.
-#}
{% macro timestamp_parts(expr) %}{{ return(adapter.dispatch('timestamp_parts', 'billing')(expr)) }}{% endmacro %}

{% macro duckdb__timestamp_parts(expr) -%}
nullif(regexp_extract({{ billing.timestamp_text(expr) }}, '^({{ billing.timestamp_pattern() }})$', 0), '')
{%- endmacro %}

{% macro default__timestamp_parts(expr) -%}
nullif(regexp_extract({{ billing.timestamp_text(expr) }}, '^({{ billing.timestamp_pattern() }})\\z', 0), '')
{%- endmacro %}

{#- The offset of timestamp parts in minutes east of UTC (0 for `Z` or none): +HHMM as a number less 40 an hour. -#}
{% macro timestamp_offset_minutes(parts) -%}
{%- set offset = "replace(regexp_extract(concat(substr(" ~ parts ~ ", 20), '+00'), '[+-][0-9:]+', 0), ':', '')" -%}
(cast(rpad({{ offset }}, 5, '0') as {{ dbt.type_int() }}) - 40 * cast(substr({{ offset }}, 1, 3) as {{ dbt.type_int() }}))
{%- endmacro %}

{#- Second 60 of timestamp parts is a leap second where local time minus the offset is 23:59 (UTC). -#}
{% macro is_leap_second(parts) -%}
((cast(substr({{ parts }}, 12, 2) as {{ dbt.type_int() }}) * 60 + cast(substr({{ parts }}, 15, 2) as {{ dbt.type_int() }})
    - {{ billing.timestamp_offset_minutes(parts) }} + 1440) % 1440 = 1439)
{%- endmacro %}

{#-
  The UTC instant of timestamp parts (a column holding `timestamp_parts(...)`); NULL when invalid.
  A leap second reads as second 59.999999. DuckDB casts the checked text with its offset (it reads
  any offset, and the pattern allows up to 23:59); the offset arithmetic runs for leap seconds only.
  Spark casts the local date and time and subtracts the offset in minutes (its cast refuses offsets
  beyond 18:00).
-#}
{% macro utc_timestamp_from_parts(parts) %}{{ return(adapter.dispatch('utc_timestamp_from_parts', 'billing')(parts)) }}{% endmacro %}

{% macro duckdb__utc_timestamp_from_parts(parts) -%}
(case when substr({{ parts }}, 18, 2) <> '60' then try_cast({{ parts }} as timestamptz) at time zone 'UTC'
    when {{ billing.is_leap_second(parts) }}
    then try_cast(concat(substr({{ parts }}, 1, 17), '59.999999', regexp_replace(substr({{ parts }}, 20), '^[.][0-9]+', ''))
        as timestamptz) at time zone 'UTC' end)
{%- endmacro %}

{% macro default__utc_timestamp_from_parts(parts) -%}
(case when substr({{ parts }}, 18, 2) <> '60' or {{ billing.is_leap_second(parts) }}
    then timestamp_micros(unix_micros(try_cast(case when substr({{ parts }}, 18, 2) = '60' then concat(substr({{ parts }}, 1, 17), '59.999999')
        else substr(regexp_extract({{ parts }}, '^[0-9-]+([T ][0-9:]+([.][0-9]+)?)?', 0), 1, 26) end as timestamp))
        - cast({{ billing.timestamp_offset_minutes(parts) }} as bigint) * 60000000) end)
{%- endmacro %}

{#-
  A CTE's body: the rows of `relation` with, for each of `columns`, `<column>_parts` and its UTC
  instant `<column>_utc` (NULL when invalid), each text parsed once per row. For the catalog checks,
  whose conditions compare or test several timestamps of a seed row (`billing.bad_timestamp`).
-#}
{% macro select_utc_timestamps(relation, columns) -%}
select
    *{% for column in columns %},
    {{ billing.utc_timestamp_from_parts(column ~ '_parts') }} as {{ column }}_utc
    {%- endfor %}
from (
    select
        *{% for column in columns %},
        {{ billing.timestamp_parts(column) }} as {{ column }}_parts
        {%- endfor %}
    from {{ relation }}
) as timestamp_parts
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
