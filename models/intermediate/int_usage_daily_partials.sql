{#-
  The metered events of each customer, contract, UTC day, billable metric and group values reduced
  to partial aggregates that merge (billing.metric_partials, DECISIONLOG D81, D92): counts, sums,
  the maximum, a row per distinct value for UNIQUE, the latest event for LATEST, and the first and
  last event's time. Events are reduced here once, as they arrive, and read from here by the BI view
  (fct_usage_daily) and by rating (int_segment_quantities), which rates a day from its partials when
  no segment boundary cuts it. SQL metrics have their own models (int_sql_metric_daily, _values).

  Incremental (DECISIONLOG D32, D92): a build recomputes the (contract, day) pairs its new events
  fall on, and every day of customers a changed customer key moved events to or from.
-#}
{{ config(
    materialized=billing.event_model_materialization(),
    incremental_strategy='event_batch',
    on_schema_change='sync_all_columns',
    post_hook="{{ billing.record_event_batch() }}",
) }}
-- depends_on: {{ ref('int_attribution_keys') }}
with metered as {{ billing.inline_cte() }} (

    select
        *,
        cast(event_at as date) as usage_date
    from {{ ref('int_metered_events') }}
    where aggregation <> 'sql'

),

metered_events as (

    {{ billing.daily_batch_rows('metered', event_at='event_at') }}

),

final as (

    {{ billing.metric_partials(
        'metered_events', ['customer_id', 'contract_id', 'usage_date', 'billable_metric', 'group_values']
    ) }}

)

select * from final
{{ billing.order_rows_by(['usage_date']) }}
