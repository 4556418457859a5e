{#-
  The billing line of each event (DATA_CONTRACT semantics 5, DECISIONLOG D23, D24), one rule for
  structured and SQL metrics: for each product of `products` that bills the event (`product_join`,
  a join condition), the segment of its pricing group's rate when the product has one at event_at,
  else the default segment (no pricing group), and its presentation group. `events` has
  contract_id, event_at and group_values (JSON, NULL for none). Selects segment_id,
  presentation_group_values and the events' `columns`; an event in no segment is left out.
  Rows that stand for several events (int_segment_quantities' partial aggregates) give the first and
  last event's time (`starts_at`, `ends_at`): the row is in a segment that holds both, which is every
  event of the row when no segment boundary falls between them.
-#}
{% macro events_in_segments(events, products, product_join, columns, starts_at='event_at', ends_at='event_at') -%}
select
    coalesce(group_segments.segment_id, default_segments.segment_id) as segment_id,
    event_groups.presentation_group_values,
{%- for column in columns %}
    {{ events }}.{{ column }}{{ "," if not loop.last }}
{%- endfor %}
from {{ events }}
inner join {{ products }}
    on {{ product_join }}
left join {{ ref('int_event_group_values') }} as event_groups
    on {{ products }}.product_id = event_groups.product_id
    and {{ events }}.group_values = event_groups.source_values
left join {{ ref('int_usage_rate_segments') }} as default_segments
    on {{ events }}.contract_id = default_segments.contract_id
    and {{ products }}.product_id = default_segments.product_id
    and default_segments.pricing_group_values is null
    and {{ events }}.{{ starts_at }} >= default_segments.segment_starting_at
    and {{ events }}.{{ ends_at }} < default_segments.segment_ending_before
left join {{ ref('int_usage_rate_segments') }} as group_segments
    on {{ events }}.contract_id = group_segments.contract_id
    and {{ products }}.product_id = group_segments.product_id
    and group_segments.pricing_group_values = event_groups.pricing_group_values
    and {{ events }}.{{ starts_at }} >= group_segments.segment_starting_at
    and {{ events }}.{{ ends_at }} < group_segments.segment_ending_before
where coalesce(group_segments.segment_id, default_segments.segment_id) is not null
{%- endmacro %}
