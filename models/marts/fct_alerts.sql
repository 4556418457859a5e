{#-
  Each alert's state per customer (DECISIONLOG D34): the value it watches and its state as of this
  build (for spend and usage alerts: in the period that holds as_of, D69), and, while it is in
  alarm, when it fired (the recorded change that started this episode) and the id of that
  notification; times_fired counts every firing, of every period.
-#}
with evaluations as (

    select * from {{ ref('int_alert_evaluations') }}
    where is_current_window

),

state_changes as (

    select * from {{ ref('alert_state_changes') }}

),

latest_change as (

    {{ billing.latest_alert_state_changes('state_changes') }}

),

firings as (

    select
        alert_id,
        customer_id,
        count(*) as times_fired,
        max(changed_at) as last_fired_at
    from state_changes
    where state = 'in_alarm'
    group by alert_id, customer_id

),

final as (

    select
        evaluations.alert_id,
        evaluations.alert_type,
        evaluations.customer_id,
        evaluations.billable_metric,
        evaluations.threshold,
        evaluations.currency,
        evaluations.current_value,
        evaluations.window_key,
        evaluations.state,
        case
            when evaluations.state = 'in_alarm' and latest_change.state = 'in_alarm'
                then latest_change.changed_at
        end as fired_at,
        case
            when evaluations.state = 'in_alarm' and latest_change.state = 'in_alarm'
                then latest_change.state_change_id
        end as notification_id,
        coalesce(firings.times_fired, 0) as times_fired,
        firings.last_fired_at,
        evaluations.evaluated_at
    from evaluations
    left join latest_change
        on
            evaluations.alert_id = latest_change.alert_id
            and evaluations.customer_id = latest_change.customer_id
            and coalesce({{ billing.alert_episode_key('evaluations.alert_type', 'evaluations.window_key') }}, '')
            = coalesce(latest_change.episode_key, '')
    left join firings
        on
            evaluations.alert_id = firings.alert_id
            and evaluations.customer_id = firings.customer_id

)

select * from final
