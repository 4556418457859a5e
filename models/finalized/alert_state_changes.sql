{#-
  The alert store (DECISIONLOG D34): every change of an alert's state for a customer, appended by
  the first build that sees it, never changed afterwards (incremental append, full_refresh=false,
  like the invoice store). A row with state 'in_alarm' is a firing: its state_change_id is the
  webhook notification's stable id (`billing alerts deliver`).

  A change is recorded when the evaluated state differs from the last recorded one, or when an alert
  still in alarm moved to a new window (a new billing period or invoice: it fires again there).
  A preview build (billing_as_of ahead of the clock) or one evaluating an earlier instant than the
  last change records nothing.
-#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, on_schema_change='fail') }}

with evaluations as (

    select * from {{ ref('int_alert_evaluations') }}
    where evaluated_at <= cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})

),

{% if is_incremental() %}
recorded as (

    {{ billing.latest_alert_state_changes(this) }}

),
{% endif %}

changes as (

    select evaluations.*
    from evaluations
    {% if is_incremental() %}
    left join recorded
        on evaluations.alert_id = recorded.alert_id
        and evaluations.customer_id = recorded.customer_id
    where (recorded.alert_id is null and evaluations.state = 'in_alarm')
        or (recorded.alert_id is not null
            and evaluations.evaluated_at > recorded.changed_at
            and (evaluations.state <> recorded.state
                 or (evaluations.state = 'in_alarm'
                     and coalesce(evaluations.window_key, '') <> coalesce(recorded.window_key, ''))))
    {% else %}
    where evaluations.state = 'in_alarm'
    {% endif %}

),

final as (

    select
        {{ dbt.hash(dbt.concat(['alert_id', "'|'", 'customer_id', "'|'", billing.timestamp_key('evaluated_at')])) }}
            as state_change_id,
        alert_id,
        alert_type,
        customer_id,
        billable_metric,
        threshold,
        current_value,
        window_key,
        state,
        evaluated_at as changed_at,
        '{{ invocation_id }}' as recorded_by_invocation_id
    from changes

)

select * from final
