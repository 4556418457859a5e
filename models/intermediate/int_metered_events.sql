{#-
  The (event, metric) matches that are billed: all of them except events with a non-numeric value
  for any metric they match (those events are rejected as a whole, see fct_event_outcomes).
  A view over the incremental int_metric_events.

  Read after fct_event_outcomes: on a first build the readers of this view (rating,
  fct_usage_daily) and fct_event_outcomes each read the whole history, and two such queries at once
  in one DuckDB share its memory limit, which ran out at 100 M events on two dbt threads
  (DECISIONLOG D82).
-#}
{{ config(materialized='view') }}
-- depends_on: {{ ref('fct_event_outcomes') }}
with metric_events as (

    select * from {{ ref('int_metric_events') }}

),

final as (

    select *
    from metric_events
    where not is_event_non_numeric

)

-- AM04: `*` is every column of int_metric_events (this view only filters it)
select * from final  -- noqa: AM04
