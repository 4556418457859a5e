{#-
  Exactly one outcome per raw event row (DATA_CONTRACT "Usage events"): metered, unmetered,
  duplicate, or rejected with a reason. Checks apply in this order: row format (missing fields,
  timestamp, properties), duplicate, customer, contract, numeric value (not a number, then out of
  range: DECISIONLOG D56).

  Incremental (DECISIONLOG D32): each build classifies the rows loaded since the last one and
  reclassifies the rows of customer keys whose attribution changed (sent_customer_id is the
  customer_id as the event carried it).
-#}
{{ config(
    materialized=billing.event_model_materialization(),
    incremental_strategy='event_batch',
    on_schema_change='sync_all_columns',
    post_hook="{{ billing.record_event_batch() }}",
) }}
-- depends_on: {{ ref('int_attribution_keys') }}
-- depends_on: {{ ref('int_metric_events') }}
with events as (

    select * from (
        {{ billing.event_batch_rows(ref('int_events_deduplicated'), key='customer_id', key_table=true) }}
    ) as batch_rows

),

attributed as (

    {#- the batch's winning copies, attributed, with what the metrics make of each (DECISIONLOG D84) -#}
    select * from {{ ref('int_event_metric_checks') }}

),

winners as (

    {#- the winning copy of each well-formed event: attribution, then its metric matches -#}
    select
        attributed.transaction_id,
        attributed.loaded_at,
        attributed.source_file,
        attributed.source_line,
        attributed.sent_customer_id,
        coalesce(attributed.customer_id, attributed.sent_customer_id) as customer_id,
        attributed.contract_id,
        attributed.event_type,
        attributed.event_at,
        case
            when attributed.attribution_rejection_reason is not null then 'rejected'
            when attributed.value_rejection is not null then 'rejected'
            when attributed.matched_metrics > 0 then 'metered'
            else 'unmetered'
        end as outcome,
        coalesce(attributed.attribution_rejection_reason, attributed.value_rejection) as reason,
        case
            when attributed.attribution_rejection_reason is not null then null
            when attributed.value_rejection = 'non_numeric_value'
                then {{ dbt.concat([
                    "'billable metric '", "attributed.non_numeric_metric",
                    "': its property is not a number; the whole event is rejected (DECISIONLOG D7)'"
                ]) }}
            when attributed.value_rejection = 'value_out_of_range'
                then {{ dbt.concat([
                    "'billable metric '", "attributed.out_of_range_metric",
                    "': a metric value must be a number of magnitude below 10^15 (DECISIONLOG D56)'"
                ]) }}
        end as reason_detail,
        attributed.matched_metrics
    from attributed

),

others as (

    {#- malformed rows and duplicates: their outcome needs nothing but the row -#}
    select
        transaction_id,
        loaded_at,
        source_file,
        source_line,
        customer_id as sent_customer_id,
        customer_id,
        cast(null as {{ dbt.type_string() }}) as contract_id,
        event_type,
        event_at,
        case when format_rejection_reason is not null then 'rejected' else 'duplicate' end as outcome,
        format_rejection_reason as reason,
        ingest_error as reason_detail,
        0 as matched_metrics
    from events
    where format_rejection_reason is not null or is_duplicate

),

classified as (

    select * from winners
    union all
    select * from others

),

final as (

    select * from classified

)

select * from final
