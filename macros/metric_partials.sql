{#-
  The aggregation rule of billable metrics (billing.aggregate_metric_events) in two steps, so that
  events can be reduced early and rated from the reductions (DECISIONLOG D81).

  metric_partials(relation, group_columns): metric event rows of `relation` (columns aggregation,
  metric_value, unique_value, event_at, transaction_id) reduced per `group_columns` to partial
  aggregates that merge: event_count, value_sum (COUNT, SUM), value_max (MAX), for UNIQUE a row per
  distinct value (unique_value), for LATEST the latest event (latest_at, latest_transaction_id,
  latest_value); first_event_at and last_event_at bound the events of the row.

  aggregate_metric_partials(relation, group_columns): partial rows merged per `group_columns` into
  quantity and event_count, as aggregate_metric_events gives them from the events: COUNT and SUM add,
  MAX takes the greatest, UNIQUE counts the distinct values, LATEST takes the latest event's value
  (by event_at, then transaction_id). It is merge_metric_partials then finish_metric_partials, so
  each rule is written once.

      partials as ({{ billing.metric_partials('events', ['contract_id', 'billable_metric', 'day']) }}),
      totals as ({{ billing.aggregate_metric_partials('partials', ['contract_id', 'billable_metric']) }})
-#}
{#- The columns of a partial aggregate row, besides its group columns. -#}
{% macro partial_columns() -%}
{{ return(['aggregation', 'unique_value', 'first_event_at', 'last_event_at', 'event_count', 'value_sum',
           'value_max', 'latest_at', 'latest_transaction_id', 'latest_value']) }}
{%- endmacro %}

{% macro metric_partials(relation, group_columns) -%}
{#- each event is a partial of its own (one event: its value, time and id), merged per group_columns -#}
{%- set keys = group_columns | join(', ') -%}
{%- set event_partials -%}
(
    select
        {{ keys }},
        aggregation,
        case when aggregation = 'unique' then unique_value end as unique_value,
        event_at as first_event_at,
        event_at as last_event_at,
        cast(1 as {{ dbt.type_bigint() }}) as event_count,
        metric_value as value_sum,
        metric_value as value_max,
        event_at as latest_at,
        transaction_id as latest_transaction_id,
        metric_value as latest_value
    from {{ relation }}
) as event_partials
{%- endset -%}
{{ billing.merge_metric_partials(event_partials, group_columns) }}
{%- endmacro %}

{% macro aggregate_metric_partials(relation, group_columns) -%}
{#- merged per group first (one row per group, per distinct value for UNIQUE), then finished -#}
{%- set merged -%}
(
{{ billing.merge_metric_partials(relation, group_columns) }}
) as merged_partials
{%- endset -%}
{{ billing.finish_metric_partials(merged, group_columns) }}
{%- endmacro %}

{#-
  finish_metric_partials(relation, group_columns): quantity and event_count of partial rows already
  merged per `group_columns` (one row per group, and per distinct unique_value for UNIQUE, as
  metric_partials and merge_metric_partials leave them): a row's quantity is its value_sum
  (COUNT, SUM), value_max (MAX) or latest_value (LATEST) as it stands; only UNIQUE groups, counting its
  value rows. Used where the stored rows are at the grain asked (fct_usage_daily over the daily
  partials, DECISIONLOG D93): no grouping or ranking of every row again.

      days as ({{ billing.metric_partials('events', ['contract_id', 'billable_metric', 'day']) }}),
      daily as ({{ billing.finish_metric_partials('days', ['contract_id', 'billable_metric', 'day']) }})
-#}
{% macro finish_metric_partials(relation, group_columns) -%}
{%- set keys = group_columns | join(', ') -%}
select {{ keys }}, quantity, event_count
from (
    select
        {{ keys }},
        cast(case aggregation when 'max' then value_max when 'latest' then latest_value else value_sum end
            as {{ billing.type_decimal() }}) as quantity,
        cast(event_count as {{ dbt.type_bigint() }}) as event_count
    from {{ relation }}
    where aggregation in ('count', 'sum', 'max', 'latest')

    union all

    select
        {{ keys }},
        cast(count(unique_value) as {{ billing.type_decimal() }}) as quantity,
        cast(sum(event_count) as {{ dbt.type_bigint() }}) as event_count
    from {{ relation }}
    where aggregation = 'unique'
    group by {{ keys }}
) as finished
{%- endmacro %}

{#-
  merge_metric_partials(relation, group_columns): partial rows (metric_partials' columns) merged per
  `group_columns` into coarser partial rows of the same columns, e.g. a contract's days into its
  month (DECISIONLOG D92): counts, sums and first/last add up or widen, value_max takes the greatest,
  UNIQUE keeps a row per distinct value, LATEST keeps the latest event (by latest_at, then
  latest_transaction_id). aggregate_metric_partials gives the same from the merged rows as from the
  rows merged.

      months as ({{ billing.merge_metric_partials('days', ['contract_id', 'billable_metric', 'month']) }})
-#}
{% macro merge_metric_partials(relation, group_columns) -%}
{%- set keys = group_columns | join(', ') -%}
select
    {{ keys }},
    {{ billing.partial_columns() | join(',\n    ') }}
from (
    select
        {{ keys }},
        aggregation,
        unique_value,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        cast(sum(event_count) as {{ dbt.type_bigint() }}) as event_count,
        sum(value_sum) as value_sum,
        max(value_max) as value_max,
        cast(null as {{ dbt.type_timestamp() }}) as latest_at,
        cast(null as {{ dbt.type_string() }}) as latest_transaction_id,
        cast(null as {{ billing.type_decimal() }}) as latest_value
    from {{ relation }}
    where aggregation in ('count', 'sum', 'max', 'unique')
    group by {{ keys }}, aggregation, unique_value

    union all

    select
        {{ keys }},
        aggregation,
        cast(null as {{ dbt.type_string() }}) as unique_value,
        first_event_at,
        last_event_at,
        event_count,
        cast(null as {{ billing.type_decimal() }}) as value_sum,
        cast(null as {{ billing.type_decimal() }}) as value_max,
        latest_at,
        latest_transaction_id,
        latest_value
    from (
        select
            {{ keys }},
            aggregation,
            latest_at,
            latest_transaction_id,
            latest_value,
            row_number() over (
                partition by {{ keys }} order by latest_at desc, latest_transaction_id desc
            ) as recency_rank,
            cast(sum(event_count) over (partition by {{ keys }}) as {{ dbt.type_bigint() }}) as event_count,
            min(first_event_at) over (partition by {{ keys }}) as first_event_at,
            max(last_event_at) over (partition by {{ keys }}) as last_event_at
        from {{ relation }}
        where aggregation = 'latest'
    ) as ranked
    where recency_rank = 1
) as merged
{%- endmacro %}
