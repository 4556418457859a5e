{#-
  What the daily models recompute in this build (DECISIONLOG D32, D44, D92), decided once, per model
  (int_usage_daily_partials, then fct_usage_daily from it; each from its own plan, so that one built
  without the other catches up on its own next time): every (contract, day) that an event of the
  model's batch falls on ('day' rows), and every customer whose days are all redone ('customer'
  rows): those a changed customer key resolves to now or did before, and those with events without a
  loaded_at (in every batch; such a row may lose its id to a later load). On a full recompute: one
  'day' row for the first and one for the last possible day.
-#}
{%- set daily_models = ['int_usage_daily_partials', 'fct_usage_daily'] -%}
with unloaded_customers as (

    select attribution_keys.customer_id
    from {{ ref('int_events_deduplicated') }} as unloaded
    inner join {{ ref('int_attribution_keys') }} as attribution_keys
        on unloaded.customer_id = attribution_keys.attribution_key
    where unloaded.loaded_at is null

),
{%- for model_name in daily_models %}

batch_days__{{ model_name }} as (

    select distinct
        contract_id,
        cast(event_at as date) as usage_date
    from ({{ billing.event_batch_rows(ref('int_metric_events'), model_name=model_name) }}) as batch_rows
    where
        contract_id is not null
        and {{ billing.event_batch_plan('decision', model_name) }} = 'incremental'

),

full_range__{{ model_name }} as (

    select
        cast(null as {{ dbt.type_string() }}) as contract_id,
        cast('0001-01-01' as date) as usage_date
    from {{ source('billing_state', 'build_plans') }}
    where invocation_id = '{{ invocation_id }}' and model_name = '{{ model_name }}' and decision = 'full'
    union all
    select
        cast(null as {{ dbt.type_string() }}) as contract_id,
        cast('9999-12-31' as date) as usage_date
    from {{ source('billing_state', 'build_plans') }}
    where invocation_id = '{{ invocation_id }}' and model_name = '{{ model_name }}' and decision = 'full'

),

changed_customers__{{ model_name }} as (

    select customer_id
    from {{ ref('int_event_batch_key_changes') }}
    where model_name = '{{ model_name }}' and customer_id is not null
    union
    select previous_customer_id as customer_id
    from {{ ref('int_event_batch_key_changes') }}
    where model_name = '{{ model_name }}' and previous_customer_id is not null

),

batch__{{ model_name }} as (

    select
        'day' as batch_kind,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        usage_date
    from batch_days__{{ model_name }}
    union all
    select
        'day' as batch_kind,
        contract_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        usage_date
    from full_range__{{ model_name }}
    union all
    select distinct
        'customer' as batch_kind,
        cast(null as {{ dbt.type_string() }}) as contract_id,
        customer_id,
        cast(null as date) as usage_date
    from (
        select customer_id from changed_customers__{{ model_name }}
        union all
        select customer_id from unloaded_customers
    ) as customers

),
{%- endfor %}

final as (
{%- for model_name in daily_models %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        '{{ model_name }}' as model_name,
        batch_kind,
        contract_id,
        customer_id,
        usage_date
    from batch__{{ model_name }}
    {%- endfor %}

)

select * from final
