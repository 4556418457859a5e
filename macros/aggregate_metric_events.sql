{#-
  The aggregation rule of billable metrics (DATA_CONTRACT "Billable metrics"), in one place.
  Over metric event rows of `relation` (columns aggregation, metric_value, unique_value, event_at,
  transaction_id), grouped by `group_columns`: COUNT and SUM add metric_value (1 per event for
  COUNT), MAX takes the greatest, UNIQUE counts distinct unique_value, LATEST takes the value of the
  latest event (by event_at, then transaction_id). Returns group_columns, quantity, event_count.

  A group holds one metric's rows (the group columns determine the metric), so each aggregation is
  computed over its own rows and the three results are stacked, no join: UNIQUE in two steps
  (values per group, then groups), which is cheaper than count(distinct) beside the other sums.
  The same rule in two steps, partial aggregates that merge and their merge, is in metric_partials.sql
  (rating, D81); one pass is cheaper where nothing merges the results (daily usage, alert usage).
-#}
{% macro aggregate_metric_events(relation, group_columns) -%}
{%- set keys = group_columns | join(', ') -%}
select {{ keys }}, quantity, event_count
from (
    select
        {{ keys }},
        cast(case max(aggregation) when 'max' then max(metric_value) else sum(metric_value) end
            as {{ billing.type_decimal() }}) as quantity,
        count(*) as event_count
    from {{ relation }}
    where aggregation in ('count', 'sum', 'max')
    group by {{ keys }}

    union all

    select
        {{ keys }},
        cast(count(unique_value) as {{ billing.type_decimal() }}) as quantity,
        cast(sum(copies) as {{ dbt.type_bigint() }}) as event_count
    from (
        select {{ keys }}, unique_value, count(*) as copies
        from {{ relation }}
        where aggregation = 'unique'
        group by {{ keys }}, unique_value
    ) as unique_values
    group by {{ keys }}

    union all

    select
        {{ keys }},
        cast(metric_value as {{ billing.type_decimal() }}) as quantity,
        event_count
    from (
        select
            {{ keys }},
            metric_value,
            row_number() over (partition by {{ keys }} order by event_at desc, transaction_id desc) as recency_rank,
            count(*) over (partition by {{ keys }}) as event_count
        from {{ relation }}
        where aggregation = 'latest'
    ) as ranked
    where recency_rank = 1
) as aggregated
{%- endmacro %}
