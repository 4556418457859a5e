{#-
  Each rated segment's metered quantity (DATA_CONTRACT semantics 4 and 5), one row per usage line:
  the metered events of a segment aggregated by the product's billable metric
  (billing.aggregate_metric_events), per presentation group (int_event_group_values); a SQL
  metric's value per segment and presentation group comes from int_sql_metric_values (its
  group-key columns place events alike, DECISIONLOG D23). line_key names the line.
  An event belongs to the segment of its pricing group's rate when the product has one at event_at,
  else to the default segment (no pricing group; billing.events_in_segments). Events are matched
  before the entitlement: an event of a pricing group whose segment is not entitled or has no rate
  is not billed at all (not by the default rate). A segment with no events has no line. Only the events of the periods this
  build rates are read (billing.rating_window_start).
-#}
-- depends_on: {{ ref('int_periods_to_rate') }}
with segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

metered_events as (

    select * from {{ ref('int_metered_events') }}
    where event_at >= {{ billing.rating_window_start() }}

),

sql_metric_values as (

    select * from {{ ref('int_sql_metric_values') }}

),

segment_events as (

    {{ billing.events_in_segments(
        'metered_events', 'products',
        "metered_events.billable_metric = products.billable_metric and metered_events.aggregation <> 'sql'",
        ['transaction_id', 'event_at', 'aggregation', 'metric_value', 'unique_value']
    ) }}

),

structured_quantities as (

    {{ billing.aggregate_metric_events('segment_events', ['segment_id', 'presentation_group_values']) }}

),

quantities as (

    select
        segment_id,
        presentation_group_values,
        quantity,
        event_count
    from structured_quantities
    union all
    select
        segment_id,
        presentation_group_values,
        quantity,
        event_count
    from sql_metric_values

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "quantities.segment_id", "'|'", "coalesce(quantities.presentation_group_values, '')"
        ])) }} as line_key,
        quantities.segment_id,
        quantities.presentation_group_values,
        quantities.quantity as metered_quantity,
        quantities.event_count
    from quantities
    inner join segments
        on quantities.segment_id = segments.segment_id
    where
        segments.is_entitled
        and segments.rate_id is not null

)

select * from final
