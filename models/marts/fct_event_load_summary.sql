{#- Per load (one loaded_at per `billing ingest` run): how many raw rows ended in each outcome and reason.
    Adds up to raw.usage_events.

    Incremental (DECISIONLOG D32, D44), like the event models: a build recounts the loads of its batch
    (loaded after the summary last ran, rows without a loaded_at) and every load holding rows of a
    customer key whose attribution changed, whole; the other loads' counts are kept. A nightly build
    costs its new loads, not every load ever made (a streaming loader makes one per row). -#}
{{ config(
    materialized=billing.event_model_materialization(),
    incremental_strategy='event_batch',
    on_schema_change='sync_all_columns',
    post_hook="{{ billing.record_event_batch() }}",
) }}
-- depends_on: {{ ref('int_attribution_keys') }}
with outcomes as {{ billing.inline_cte() }} (

    {#- read where used (D83, D85): stored whole first, it was a copy of every outcome each night #}
    select * from {{ ref('fct_event_outcomes') }}

),

{% if billing.incremental_events() -%}
batch_loads as (

    select distinct loaded_at
    from ({{ billing.event_batch_rows(ref('fct_event_outcomes'), model_name='fct_event_load_summary') }}) as batch_rows
    where
        loaded_at is not null
        and {{ billing.event_batch_plan('decision') }} = 'incremental'
    union all
    {{ billing.load_summary_changed_key_loads() }}

),

recounted as (

    {#- a first, full or code-changed build counts every load -#}
    select *
    from outcomes
    where {{ billing.event_batch_plan('decision') }} = 'full'
    union all
    select outcomes.*
    from outcomes
    inner join batch_loads
        on outcomes.loaded_at = batch_loads.loaded_at
    union all
    select *
    from outcomes
    where
        loaded_at is null
        and {{ billing.event_batch_plan('decision') }} = 'incremental'

),
{%- else -%}
recounted as (

    select * from outcomes

),
{%- endif %}

final as (

    select
        loaded_at,
        outcome,
        reason,
        count(*) as event_count
    from recounted
    group by loaded_at, outcome, reason

)

select * from final
