{#-
  The last recorded change of each alert for each customer (DECISIONLOG D34), from a relation shaped
  like alert_state_changes: the latest changed_at, ties broken by state_change_id.
-#}
{% macro latest_alert_state_changes(relation) -%}
select * from (
    select
        changes.*,
        row_number() over (partition by alert_id, customer_id order by changed_at desc, state_change_id desc)
            as recency_rank
    from {{ relation }} as changes
) as ranked
where recency_rank = 1
{%- endmacro %}
