{#-
  Each rated segment's metered quantity (DATA_CONTRACT semantics 4 and 5), one row per usage line:
  the metered events of a segment aggregated by the product's billable metric, per presentation
  group (int_event_group_values). The events are first reduced to partial aggregates per contract,
  metric, group values and bucket (DECISIONLOG D81): the event's month, or its day when a segment of
  the contract starts or ends inside the month, or the event alone when one does inside the day; a
  bucket lies in one segment, so rating the partials (billing.metric_partials,
  aggregate_metric_partials) gives what rating the events does with fewer rows to place. A SQL
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

segment_boundaries as (

    {#- the instants at which a segment of the contract starts or ends -#}
    select
        contract_id,
        segment_starting_at as boundary_at
    from segments
    union all
    select
        contract_id,
        segment_ending_before as boundary_at
    from segments

),

cut_months as (

    {#- months of a contract with a boundary after their first instant -#}
    select distinct
        contract_id,
        {{ dbt.date_trunc('month', 'boundary_at') }} as bucket_month
    from segment_boundaries
    where boundary_at <> {{ dbt.date_trunc('month', 'boundary_at') }}

),

cut_days as (

    select distinct
        contract_id,
        {{ dbt.date_trunc('day', 'boundary_at') }} as bucket_day
    from segment_boundaries
    where boundary_at <> {{ dbt.date_trunc('day', 'boundary_at') }}

),

bucketed_events as {{ billing.inline_cte() }} (

    {#- each event's bucket: its month, else its day, else itself, the first that no boundary cuts -#}
    select
        metered_events.*,
        case
            when cut_months.contract_id is null then {{ dbt.date_trunc('month', 'metered_events.event_at') }}
            when cut_days.contract_id is null then {{ dbt.date_trunc('day', 'metered_events.event_at') }}
            else metered_events.event_at
        end as bucket_at
    from metered_events
    left join cut_months
        on
            metered_events.contract_id = cut_months.contract_id
            and {{ dbt.date_trunc('month', 'metered_events.event_at') }} = cut_months.bucket_month
    left join cut_days
        on
            metered_events.contract_id = cut_days.contract_id
            and {{ dbt.date_trunc('day', 'metered_events.event_at') }} = cut_days.bucket_day
    where metered_events.aggregation <> 'sql'

),

partials as (

    {{ billing.metric_partials('bucketed_events', ['contract_id', 'billable_metric', 'group_values', 'bucket_at']) }}

),

segment_partials as (

    {{ billing.events_in_segments(
        'partials', 'products', 'partials.billable_metric = products.billable_metric',
        ['aggregation', 'unique_value', 'event_count', 'value_sum', 'value_max',
         'latest_at', 'latest_transaction_id', 'latest_value'],
        starts_at='first_event_at', ends_at='last_event_at'
    ) }}

),

structured_quantities as (

    {{ billing.aggregate_metric_partials('segment_partials', ['segment_id', 'presentation_group_values']) }}

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
