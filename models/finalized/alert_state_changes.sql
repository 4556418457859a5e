{#-
  The alert store (DECISIONLOG D34): every change of an alert's state for a customer, appended by
  the first build that sees it, never changed afterwards (incremental append, full_refresh=false,
  like the invoice store). A row with state 'in_alarm' is a firing: its state_change_id is the
  webhook notification's stable id (`billing alerts deliver`).

  A change is recorded when the evaluated state differs from the last recorded one, or when an alert
  still in alarm moved to a new window (a new invoice: it fires again there). Spend and usage alerts
  keep a state per billing period (D69): each rated period is compared with its own last change, so
  a period that reaches its threshold fires once, whenever its usage arrives (a backfill over past
  months fires for each month that crossed), and a new period starts without a record (ok).
  A preview build (billing_as_of ahead of the clock) or one evaluating an earlier instant than the
  last change records nothing. currency (D68) was added after the first release: older rows have
  none, and the column is appended to an existing table.
-#}
{{ config(
    materialized='incremental', incremental_strategy='append', full_refresh=false,
    on_schema_change='append_new_columns'
) }}

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
        and coalesce({{ billing.alert_episode_key('evaluations.alert_type', 'evaluations.window_key') }}, '')
            = coalesce(recorded.episode_key, '')
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

    {#- a period's episode is part of the id (D69): one build may fire for several periods #}
    {%- set episode_key = billing.alert_episode_key('alert_type', 'window_key') %}
    {%- set episode = "coalesce(" ~ dbt.concat(["'|'", episode_key]) ~ ", '')" %}
    {%- set changed_at = billing.timestamp_key('evaluated_at') %}
    select
        {{ dbt.hash(dbt.concat(['alert_id', "'|'", 'customer_id', "'|'", changed_at, episode])) }}
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
        '{{ invocation_id }}' as recorded_by_invocation_id,
        currency
    from changes

)

select * from final
