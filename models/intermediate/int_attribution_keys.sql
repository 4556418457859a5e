{#-
  How events find their customer (DATA_CONTRACT "Usage events"): an event's customer_id is either a
  customer's id or one of its ingest aliases (an id wins over an alias). One row per such key, with
  the customer it resolves to and its attribution_state: a fingerprint of that customer and of its
  contract windows, which decide an event's contract. When a key's state changes, the incremental
  event models recompute that key's events (DECISIONLOG D32).
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with customers as (

    select * from {{ ref('stg_customers') }}

),

aliases as (

    select * from {{ ref('int_customer_aliases') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

keys as (

    select
        customer_id as attribution_key,
        customer_id
    from customers

    union all

    select
        aliases.ingest_alias,
        aliases.customer_id
    from aliases
    left join customers
        on aliases.ingest_alias = customers.customer_id
    where customers.customer_id is null

),

contract_windows as (

    select
        customer_id,
        {{ billing.listagg_ordered(
            dbt.concat(['contract_id', "'@'", billing.timestamp_key('starting_at'), "'/'",
                        "coalesce(" ~ billing.timestamp_key('ending_before') ~ ", '')"]),
            "';'",
            ['starting_at', 'contract_id']) }} as windows
    from contracts
    group by customer_id

),

final as (

    select
        keys.attribution_key,
        keys.customer_id,
        {{ dbt.hash(dbt.concat(['keys.customer_id', "'|'", "coalesce(contract_windows.windows, '')"])) }}
            as attribution_state
    from keys
    left join contract_windows
        on keys.customer_id = contract_windows.customer_id

)

select * from final
