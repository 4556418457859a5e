{#-
  What fct_usage_daily recomputes in this build (DECISIONLOG D32, D44), decided once: every
  (contract, day) that an event of its batch falls on ('day' rows), and every customer whose days are
  all redone ('customer' rows): those a changed customer key resolves to now or did before, and
  those with events without a loaded_at (in every batch; such a row may lose its id to a later load).
  On a full recompute: one 'day' row for the first and one for the last possible day.
-#}
with batch_matches as (

    select
        contract_id,
        event_at
    from ({{ billing.event_batch_rows(ref('int_metric_events'), model_name='fct_usage_daily') }}) as batch_rows
    where
        contract_id is not null
        and {{ billing.event_batch_plan('decision', 'fct_usage_daily') }} = 'incremental'

),

batch_days as (

    select distinct
        contract_id,
        cast(event_at as date) as usage_date
    from batch_matches

),

full_range as (

    select
        cast(null as {{ dbt.type_string() }}) as contract_id,
        cast('0001-01-01' as date) as usage_date
    from {{ source('billing_state', 'build_plans') }}
    where invocation_id = '{{ invocation_id }}' and model_name = 'fct_usage_daily' and decision = 'full'
    union all
    select
        cast(null as {{ dbt.type_string() }}) as contract_id,
        cast('9999-12-31' as date) as usage_date
    from {{ source('billing_state', 'build_plans') }}
    where invocation_id = '{{ invocation_id }}' and model_name = 'fct_usage_daily' and decision = 'full'

),

changed_customers as (

    select customer_id
    from {{ ref('int_event_batch_key_changes') }}
    where model_name = 'fct_usage_daily' and customer_id is not null
    union
    select previous_customer_id as customer_id
    from {{ ref('int_event_batch_key_changes') }}
    where model_name = 'fct_usage_daily' and previous_customer_id is not null

),

unloaded_customers as (

    select attribution_keys.customer_id
    from {{ ref('int_events_deduplicated') }} as unloaded
    inner join {{ ref('int_attribution_keys') }} as attribution_keys
        on unloaded.customer_id = attribution_keys.attribution_key
    where unloaded.loaded_at is null

),

final as (

    select
        'day' as batch_kind,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        usage_date
    from batch_days
    union all
    select
        'day' as batch_kind,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        usage_date
    from full_range
    union all
    select distinct
        'customer' as batch_kind,
        cast(null as {{ dbt.type_string() }}) as contract_id,
        customer_id,
        cast(null as date) as usage_date
    from (
        select customer_id from changed_customers
        union all
        select customer_id from unloaded_customers
    ) as customers

)

select * from final
