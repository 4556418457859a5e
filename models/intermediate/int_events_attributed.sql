{#-
  The winning copy of each well-formed event, attributed to a customer (by customer_id first, then
  by ingest alias) and to the customer's contract in force at the event time.
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with events as (

    select * from {{ ref('int_events_deduplicated') }}
    where format_rejection_reason is null and not is_duplicate

),

customers as (

    select * from {{ ref('stg_customers') }}

),

aliases as (

    select * from {{ ref('int_customer_aliases') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

with_customer as (

    select
        events.transaction_id,
        events.customer_id as sent_customer_id,
        coalesce(customers.customer_id, aliases.customer_id) as customer_id,
        events.event_type,
        events.event_at,
        events.properties,
        events.loaded_at
    from events
    left join customers
        on events.customer_id = customers.customer_id
    left join aliases
        on events.customer_id = aliases.ingest_alias
        and customers.customer_id is null

),

with_contract as (

    select
        with_customer.*,
        contracts.contract_id
    from with_customer
    left join contracts
        on with_customer.customer_id = contracts.customer_id
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
