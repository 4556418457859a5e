{#-
  Typed usage events, one row per raw row. Timestamps are normalised to UTC (offsets honoured; the
  text is read once, into timestamp_parts, DECISIONLOG D46).
  `format_rejection_reason` is the first row-level problem found, in the contract's order;
  rows with a reason never claim their transaction_id (see DECISIONLOG: dedup).
  The table needs only the contract's six columns (DECISIONLOG D41): `billing ingest`'s columns
  source_file, source_line and ingest_error are read when the table has them, NULL otherwise, and a
  `loaded_at` with a time zone is read as the UTC timestamp it stands for.
-#}
{%- set loader_columns = {'source_file': dbt.type_string(), 'source_line': dbt.type_bigint(),
                          'ingest_error': dbt.type_string()} -%}
{%- set raw_columns = {} -%}
{%- if execute -%}
{%- set raw_relation = load_relation(source('raw', 'usage_events')) -%}
{%- if raw_relation is not none -%}
        {%- for column in adapter.get_columns_in_relation(raw_relation) -%}
            {%- do raw_columns.update({column.name | lower: column.dtype | lower}) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endif -%}
with source as (

    select * from {{ source('raw', 'usage_events') }}

),

timestamp_parts as (

    select
        *,
        {{ billing.timestamp_parts('timestamp') }} as timestamp_parts
    from source

),

typed as (

    select
        case when trim(transaction_id) = '' then null else transaction_id end as transaction_id,
        case when trim(customer_id) = '' then null else customer_id end as customer_id,
        case when trim(event_type) = '' then null else event_type end as event_type,
        cast(timestamp as {{ dbt.type_string() }}) as raw_timestamp,
        {{ billing.utc_timestamp_from_parts('timestamp_parts') }} as event_at,
        case when properties is null or trim(properties) = '' then '{}' else properties end as properties,
        {% if raw_columns.get('loaded_at', 'timestamp') == 'timestamp' -%}
        loaded_at,
        {%- else -%}
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at,
        {%- endif %}
    {%- for column, type in loader_columns.items() %}
        {% if column in raw_columns or not raw_columns -%}
        {{ column }}
        {%- else -%}
        cast(null as {{ type }}) as {{ column }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
    from timestamp_parts

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
