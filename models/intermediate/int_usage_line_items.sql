{#-
  Usage lines: each entitled, rated segment's metered events aggregated by the product's billable
  metric (COUNT, SUM, MAX, UNIQUE, LATEST) and priced. FLAT: quantity x price, rounded half-up to
  cents. A segment with no events has no line.
-#}
with segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

metered_events as (

    select * from {{ ref('int_metered_events') }}

),

segment_events as (

    select
        segments.segment_id,
        metered_events.transaction_id,
        metered_events.event_at,
        metered_events.aggregation,
        metered_events.metric_value,
        metered_events.unique_value
    from metered_events
    inner join products
        on metered_events.billable_metric = products.billable_metric
    inner join segments
        on metered_events.contract_id = segments.contract_id
        and products.product_id = segments.product_id
        and metered_events.event_at >= segments.segment_starting_at
        and metered_events.event_at < segments.segment_ending_before

),

quantities as (

    {{ billing.aggregate_metric_events('segment_events', ['segment_id']) }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(["segments.segment_id", "'|usage'"])) }} as line_item_id,
        segments.invoice_id,
        segments.contract_id,
        segments.customer_id,
        'usage' as line_type,
        segments.product_id,
        products.name,
        segments.segment_starting_at as starting_at,
        segments.segment_ending_before as ending_before,
        cast(null as {{ dbt.type_string() }}) as pricing_group_values,
        cast(null as {{ dbt.type_string() }}) as presentation_group_values,
        quantities.quantity,
        segments.price as unit_price,
        {{ billing.round_money('quantities.quantity * segments.price') }} as amount,
        quantities.event_count
    from quantities
    inner join segments
        on quantities.segment_id = segments.segment_id
    inner join products
        on segments.product_id = products.product_id
    where segments.is_entitled
        and segments.rate_id is not null

)

select * from final
