{#-
  The episode an alert's state belongs to (DECISIONLOG D34, D69): spend and usage alerts keep a
  state per billing period (their window_key), the others one state per alert and customer (null).
-#}
{% macro alert_episode_key(alert_type, window_key) -%}
case when {{ alert_type }} in ('spend_threshold_reached', 'usage_threshold_reached') then {{ window_key }} end
{%- endmacro %}

{#-
  The last recorded change of each alert for each customer and episode (DECISIONLOG D34, D69), from
  a relation shaped like alert_state_changes: the latest changed_at, ties broken by state_change_id.
-#}
{% macro latest_alert_state_changes(relation) -%}
select * from (
    select
        changes.*,
        {{ billing.alert_episode_key('changes.alert_type', 'changes.window_key') }} as episode_key,
        row_number() over (
            partition by
                changes.alert_id,
                changes.customer_id,
                {{ billing.alert_episode_key('changes.alert_type', 'changes.window_key') }}
            order by changes.changed_at desc, changes.state_change_id desc
        ) as recency_rank
    from {{ relation }} as changes
) as ranked
where recency_rank = 1
{%- endmacro %}
