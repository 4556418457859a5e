{#-
  The customer keys (a customer_id or an ingest alias, as events carry it) whose attribution changed
  since each incremental event model last applied them (DECISIONLOG D32, D44): the key resolves to
  another customer, or that customer's contract windows changed. One row per model planned
  'incremental' in this build and changed key, with the customer it resolves to now and before.
  Computed once per build; the models re-read these keys' events and delete their old rows.
-#}
{%- set key_following = [] -%}
{%- for model_name, settings in billing.event_batch_settings().items() if settings['keys'] -%}
{%- do key_following.append("'" ~ model_name ~ "'") -%}
{%- endfor %}
with plans as (

    select model_name
    from {{ source('billing_state', 'build_plans') }}
    where
        invocation_id = '{{ invocation_id }}'
        and decision = 'incremental'
        and model_name in ({{ key_following | join(', ') }})  -- the models that follow key changes

),

current_keys as (

    select
        plans.model_name,
        attribution_keys.attribution_key,
        attribution_keys.customer_id,
        attribution_keys.attribution_state
    from plans
    cross join {{ ref('int_attribution_keys') }} as attribution_keys

),

applied_keys as (

    select
        applied.model_name,
        applied.attribution_key,
        applied.customer_id,
        applied.attribution_state
    from {{ source('billing_state', 'event_batch_keys') }} as applied
    inner join plans
        on applied.model_name = plans.model_name

),

final as (

    select
        coalesce(current_keys.model_name, applied_keys.model_name) as model_name,
        coalesce(current_keys.attribution_key, applied_keys.attribution_key) as attribution_key,
        current_keys.customer_id,
        applied_keys.customer_id as previous_customer_id
    from current_keys
    full outer join applied_keys
        on
            current_keys.model_name = applied_keys.model_name
            and current_keys.attribution_key = applied_keys.attribution_key
    where
        current_keys.attribution_key is null
        or applied_keys.attribution_key is null
        or current_keys.attribution_state <> applied_keys.attribution_state

)

select * from final
