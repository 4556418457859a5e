{#-
  The winning copy of each well-formed event, attributed to a customer (by customer_id first, then
  by ingest alias: int_attribution_keys) and to the customer's contract in force at the event time.
  A view where the event models are incremental: those that read it filter it to their batch
  (DECISIONLOG D32). A table where they are rebuilt whole (Spark on Parquet, macros/engines.sql):
  there every metric's model would otherwise join the events to their customers and contracts again.
-#}
{{ config(materialized='view' if billing.incremental_events() else 'table') }}
-- depends_on: {{ ref('int_catalog_problems') }}
with events as (

    select * from {{ ref('int_events_deduplicated') }}
    where format_rejection_reason is null and not is_duplicate

),

attribution_keys as (

    select * from {{ ref('int_attribution_keys') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

with_customer as (

    select
        events.transaction_id,
        events.customer_id as sent_customer_id,
        attribution_keys.customer_id,
        events.event_type,
        events.event_at,
        events.properties,
        events.loaded_at,
        events.source_file,
        events.source_line
    from events
    left join attribution_keys
        on events.customer_id = attribution_keys.attribution_key

),

with_contract as (

    select
        with_customer.*,
        contracts.contract_id
    from with_customer
    left join contracts
        on
            with_customer.customer_id = contracts.customer_id
            and with_customer.event_at >= contracts.starting_at
            and (contracts.ending_before is null or with_customer.event_at < contracts.ending_before)

),

final as (

    select
        *,
        case
            when customer_id is null then 'unknown_customer'
            when contract_id is null then 'no_active_contract'
        end as attribution_rejection_reason
    from with_contract

)

select * from final
