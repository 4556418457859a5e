{#-
  Parse an RFC 3339 string (offsets honoured, converted to UTC), a 'YYYY-MM-DD HH:MM:SS' string
  (UTC) or a bare date (midnight UTC) into a UTC timestamp without time zone. NULL when invalid.
  Casting straight to timestamp would drop the offset, so we go through timestamptz.
-#}
{% macro parse_utc_timestamp(expr) %}{{ return(adapter.dispatch('parse_utc_timestamp', 'billing')(expr)) }}{% endmacro %}

{% macro duckdb__parse_utc_timestamp(expr) -%}
(try_cast(trim(cast({{ expr }} as varchar)) as timestamptz) at time zone 'UTC')
{%- endmacro %}

{% macro default__parse_utc_timestamp(expr) -%}
{#- Spark: the session time zone is UTC (see profiles), cast honours an explicit offset. -#}
to_utc_timestamp(try_cast(trim(cast({{ expr }} as string)) as timestamp), 'UTC')
{%- endmacro %}

{#- The instant statuses are evaluated at: var billing_as_of, else the build's start (UTC). -#}
{% macro as_of() -%}
{%- set v = var('billing_as_of', none) -%}
{%- if v is none or v == '' -%}
cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- else -%}
{{ billing.parse_utc_timestamp("'" ~ v ~ "'") }}
{%- endif -%}
{%- endmacro %}

{% macro add_months(expr, n) -%}{{ dbt.dateadd('month', n, expr) }}{%- endmacro %}
{% macro add_hours(expr, n) -%}{{ dbt.dateadd('hour', n, expr) }}{%- endmacro %}
{% macro add_days(expr, n) -%}{{ dbt.dateadd('day', n, expr) }}{%- endmacro %}

{#- Months in a billing frequency. -#}
{% macro frequency_months(expr) -%}
case upper({{ expr }}) when 'MONTHLY' then 1 when 'QUARTERLY' then 3 when 'ANNUAL' then 12 end
{%- endmacro %}

{#- Format a timestamp as text for keys and ids: 'YYYY-MM-DD HH:MM:SS'. -#}
{% macro timestamp_key(expr) %}{{ return(adapter.dispatch('timestamp_key', 'billing')(expr)) }}{% endmacro %}
{% macro duckdb__timestamp_key(expr) %}strftime({{ expr }}, '%Y-%m-%d %H:%M:%S'){% endmacro %}
{% macro default__timestamp_key(expr) %}date_format({{ expr }}, 'yyyy-MM-dd HH:mm:ss'){% endmacro %}
