{#-
  The attributed events that int_metric_events meters in this build: its batch of
  int_events_attributed (macros/event_batches.sql, DECISIONLOG D32), without the events whose
  attribution failed. Ephemeral: a CTE of int_metric_events, which every metric's model reads, so
  the batch is selected and attributed once per build rather than once per metric (DECISIONLOG D75).
-#}
{{ config(materialized='ephemeral') }}
with batch_rows as (

    {{ billing.event_batch_rows(ref('int_events_attributed'), key='sent_customer_id', model_name='int_metric_events') }}

),

final as (

    select * from batch_rows
    where attribution_rejection_reason is null

)

-- AM04: `*` is every column of int_events_attributed (this model only filters it)
select * from final  -- noqa: AM04
