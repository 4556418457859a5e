{#-
  Typed usage events, one row per raw row. Timestamps are normalised to UTC (offsets honoured).
  `format_rejection_reason` is the first row-level problem found, in the contract's order;
  rows with a reason never claim their transaction_id (see DECISIONLOG: dedup).
-#}
with source as (

    select * from {{ source('raw', 'usage_events') }}

),

typed as (

    select
        case when trim(transaction_id) = '' then null else transaction_id end as transaction_id,
        case when trim(customer_id) = '' then null else customer_id end as customer_id,
        case when trim(event_type) = '' then null else event_type end as event_type,
        cast(timestamp as {{ dbt.type_string() }}) as raw_timestamp,
        {{ billing.parse_utc_timestamp('timestamp') }} as event_at,
        case when properties is null or trim(properties) = '' then '{}' else properties end as properties,
        loaded_at,
        source_file,
        source_line,
        ingest_error
    from source

),

final as (

    select
        *,
        case
            when ingest_error is not null then 'invalid_properties'
            when transaction_id is null then 'missing_transaction_id'
            when customer_id is null then 'missing_customer_id'
            when event_type is null then 'missing_event_type'
            when event_at is null then 'invalid_timestamp'
            when event_at > {{ billing.add_hours('loaded_at', var('future_event_tolerance_hours')) }}
                then 'future_timestamp'
            when not {{ billing.json_is_object('properties') }} then 'invalid_properties'
        end as format_rejection_reason
    from typed

)

select * from final
