{#-
  Each rated segment's metered quantity (DATA_CONTRACT semantics 4 and 5), one row per usage line:
  the metered events of a segment aggregated by the product's billable metric, per presentation
  group (int_event_group_values). Rated from partial aggregates per contract, metric, group values
  and bucket (DECISIONLOG D81, D92): the month, merged from its days' partials
  (int_usage_daily_partials), or the day's partials when a segment of the contract starts or ends
  inside the month, or the events of the day alone when one does inside the day (read from
  int_metered_events for those days only). A bucket lies in one segment, so rating the partials
  (billing.events_in_segments, aggregate_metric_partials) gives what rating the events does, without
  reading the events again. A SQL metric's value per segment and presentation group comes from
  int_sql_metric_values (its group-key columns place events alike, DECISIONLOG D23). line_key names
  the line.
  An event belongs to the segment of its pricing group's rate when the product has one at event_at,
  else to the default segment (no pricing group; billing.events_in_segments). Events are matched
  before the entitlement: an event of a pricing group whose segment is not entitled or has no rate
  is not billed at all (not by the default rate). A segment with no events has no line. Only the
  usage of the periods this build rates is read (billing.rating_window_start, a boundary of every
  contract: the day it cuts is read as events after it).
-#}
-- depends_on: {{ ref('int_periods_to_rate') }}
with segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

daily_partials as (

    {#- the days' partial aggregates (D92), from the day the periods this build rates start -#}
    select * from {{ ref('int_usage_daily_partials') }}
    where usage_date >= cast({{ billing.rating_window_start() }} as date)

),

metered_events as (

    select * from {{ ref('int_metered_events') }}
    where event_at >= {{ billing.rating_window_start() }}

),

sql_metric_values as (

    select * from {{ ref('int_sql_metric_values') }}

),

segment_boundaries as (

    {#-
      the instants at which a segment of the contract starts or ends, and the first instant this
      build rates: a day it cuts is rated from the events after it
    -#}
    select
        contract_id,
        segment_starting_at as boundary_at
    from segments
    union all
    select
        contract_id,
        segment_ending_before as boundary_at
    from segments
    union all
    select distinct
        contract_id,
        {{ billing.rating_window_start() }} as boundary_at
    from segments

),

cut_months as (

    {#- months of a contract with a boundary after their first instant -#}
    select distinct
        contract_id,
        cast({{ dbt.date_trunc('month', 'boundary_at') }} as date) as bucket_month
    from segment_boundaries
    where boundary_at <> {{ dbt.date_trunc('month', 'boundary_at') }}

),

cut_days as (

    select distinct
        contract_id,
        cast({{ dbt.date_trunc('day', 'boundary_at') }} as date) as bucket_day
    from segment_boundaries
    where boundary_at <> {{ dbt.date_trunc('day', 'boundary_at') }}

),

uncut_days as {{ billing.inline_cte() }} (

    {#- each day no boundary cuts, in its month's bucket unless a boundary cuts the month -#}
    select
        daily_partials.*,
        cut_months.contract_id is null as is_month_whole,
        cast({{ dbt.date_trunc('month', 'daily_partials.usage_date') }} as date) as usage_month
    from daily_partials
    left join cut_months
        on
            daily_partials.contract_id = cut_months.contract_id
            and cast({{ dbt.date_trunc('month', 'daily_partials.usage_date') }} as date) = cut_months.bucket_month
    where not exists (
        select 1 from cut_days
        where
            cut_days.contract_id = daily_partials.contract_id
            and cut_days.bucket_day = daily_partials.usage_date
    )

),

whole_months as (

    select * from uncut_days
    where is_month_whole

),

month_partials as (

    {{ billing.merge_metric_partials(
        'whole_months', ['contract_id', 'billable_metric', 'group_values', 'usage_month']
    ) }}

),

cut_day_events as (

    {#- the events of the days a boundary cuts, each in a bucket of its own -#}
    select metered_events.*
    from metered_events
    where
        metered_events.event_at >= (
            select cast(min(first_cut.bucket_day) as {{ dbt.type_timestamp() }}) from cut_days as first_cut
        )
        and metered_events.event_at < (
            select {{ dbt.dateadd('day', 1, 'cast(max(last_cut.bucket_day) as ' ~ dbt.type_timestamp() ~ ')') }}
            from cut_days as last_cut
        )
        and metered_events.aggregation <> 'sql'
        and exists (
            select 1 from cut_days
            where
                cut_days.contract_id = metered_events.contract_id
                and cut_days.bucket_day = cast(metered_events.event_at as date)
        )

),

event_partials as (

    {{ billing.metric_partials('cut_day_events', ['contract_id', 'billable_metric', 'group_values', 'event_at']) }}

),

partials as (

    {%- set partial_columns = ['contract_id', 'billable_metric', 'group_values'] + billing.partial_columns() %}
    select {{ partial_columns | join(', ') }} from month_partials
    union all
    select {{ partial_columns | join(', ') }} from uncut_days
    where not is_month_whole
    union all
    select {{ partial_columns | join(', ') }} from event_partials

),

segment_partials as (

    {{ billing.events_in_segments(
        'partials', 'products', 'partials.billable_metric = products.billable_metric',
        billing.partial_columns(), starts_at='first_event_at', ends_at='last_event_at'
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
