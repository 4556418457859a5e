{#-
  Each rated segment's metered quantity (DATA_CONTRACT semantics 4 and 5), one row per usage line:
  the metered events of a segment aggregated by the product's billable metric
  (billing.aggregate_metric_events), per presentation group (int_event_group_values); a SQL
  metric's value per segment comes from int_sql_metric_values. line_key names the line.
  An event belongs to the segment of its pricing group's rate when the product has one at event_at,
  else to the default segment (no pricing group). Events are matched before the entitlement: an
  event of a pricing group whose segment is not entitled or has no rate is not billed at all (not
  by the default rate). A segment with no events has no line. Only the events of the periods this
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

event_group_values as (

    select * from {{ ref('int_event_group_values') }}

),

sql_metric_values as (

    select * from {{ ref('int_sql_metric_values') }}

),

segment_events as (

    select
        coalesce(group_segments.segment_id, default_segments.segment_id) as segment_id,
        event_groups.presentation_group_values,
        metered_events.transaction_id,
        metered_events.event_at,
        metered_events.aggregation,
        metered_events.metric_value,
        metered_events.unique_value
    from metered_events
    inner join products
        on
            metered_events.billable_metric = products.billable_metric
            and metered_events.aggregation <> 'sql'
    left join event_group_values as event_groups
        on
            products.product_id = event_groups.product_id
            and metered_events.group_values = event_groups.source_values
    left join segments as default_segments
        on
            metered_events.contract_id = default_segments.contract_id
            and products.product_id = default_segments.product_id
            and default_segments.pricing_group_values is null
            and metered_events.event_at >= default_segments.segment_starting_at
            and metered_events.event_at < default_segments.segment_ending_before
    left join segments as group_segments
        on
            metered_events.contract_id = group_segments.contract_id
            and products.product_id = group_segments.product_id
            and event_groups.pricing_group_values = group_segments.pricing_group_values
            and metered_events.event_at >= group_segments.segment_starting_at
            and metered_events.event_at < group_segments.segment_ending_before
    where coalesce(group_segments.segment_id, default_segments.segment_id) is not null

),

structured_quantities as (

    {{ billing.aggregate_metric_events('segment_events', ['segment_id', 'presentation_group_values']) }}

),

sql_quantities as (

    select
        segment_id,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        quantity,
        event_count
    from sql_metric_values

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
    from sql_quantities

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
