{#-
  The aggregation rule of billable metrics (DATA_CONTRACT "Billable metrics"), in one place.
  Over metric event rows of `relation` (columns aggregation, metric_value, unique_value, event_at,
  transaction_id), grouped by `group_columns`: COUNT and SUM add metric_value (1 per event for
  COUNT), MAX takes the greatest, UNIQUE counts distinct unique_value, LATEST takes the value of the
  latest event (by event_at, then transaction_id). Returns group_columns, quantity, event_count.
-#}
{% macro aggregate_metric_events(relation, group_columns) -%}
{%- set keys = group_columns | join(', ') -%}
select
    {%- for column in group_columns %}
    aggregated.{{ column }},
    {%- endfor %}
    cast(case aggregated.aggregation
        when 'count' then aggregated.sum_value
        when 'sum' then aggregated.sum_value
        when 'max' then aggregated.max_value
        when 'unique' then aggregated.unique_count
        when 'latest' then latest.latest_value
    end as {{ billing.type_decimal() }}) as quantity,
    aggregated.event_count
from (
    select
        {{ keys }},
        max(aggregation) as aggregation,
        count(*) as event_count,
        sum(metric_value) as sum_value,
        max(metric_value) as max_value,
        count(distinct unique_value) as unique_count
    from {{ relation }}
    group by {{ keys }}
) as aggregated
left join (
    select {{ keys }}, metric_value as latest_value
    from (
        select
            {{ keys }},
            metric_value,
            row_number() over (partition by {{ keys }} order by event_at desc, transaction_id desc) as recency_rank
        from {{ relation }}
        where aggregation = 'latest'
    ) as ranked
    where recency_rank = 1
) as latest
    on {% for column in group_columns -%}
    (aggregated.{{ column }} = latest.{{ column }} or (aggregated.{{ column }} is null and latest.{{ column }} is null)){% if not loop.last %}
    and {% endif %}
    {%- endfor %}
{%- endmacro %}
