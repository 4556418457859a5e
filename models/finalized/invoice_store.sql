{#-
  The invoice store (DATA_CONTRACT semantics 10, DECISIONLOG D29, D43; macros/finalized_store.sql).
  This build stores every open invoice that is FINALIZED at its as-of: header, lines and balance
  drawdowns together, in this one insert, so an invoice is stored whole or not at all whatever is
  killed when. Append-only: full_refresh=false keeps it through `dbt build --full-refresh`, and the
  rating models (through the source billing_state.invoice_store) never re-rate what it holds.
  A preview build (billing_as_of ahead of the clock) shows statuses but stores nothing.
-#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, on_schema_change='fail') }}

with open_invoices as (

    select * from {{ ref('int_open_invoices') }}

),

stored_versions as (

    select
        invoice_id,
        max(invoice_version) as invoice_version
    from {{ this }}
    where record_type = 'invoice'
    group by invoice_id

),

seen_events as (

    {#- what this build rated: an event loaded after this was not seen by it, so it is late -#}
    select coalesce(max(loaded_at), {{ billing._timestamp_literal('0001-01-01 00:00:00') }}) as events_loaded_through
    from {{ ref('int_events_deduplicated') }}

),

to_store as (

    select
        open_invoices.*,
        coalesce(stored_versions.invoice_version, 0) + 1 as invoice_version
    from open_invoices
    left join stored_versions
        on open_invoices.invoice_id = stored_versions.invoice_id
    where
        open_invoices.status = 'FINALIZED'
        and {{ billing.as_of() }} <= {{ billing._timestamp_literal(run_started_at.strftime("%Y-%m-%d %H:%M:%S")) }}

),

lines as (

    select
        line_items.*,
        to_store.invoice_version
    from {{ ref('int_open_invoice_line_items') }} as line_items
    inner join to_store
        on line_items.invoice_id = to_store.invoice_id

),

drawdowns as (

    select
        drawdowns.balance_id,
        drawdowns.invoice_id,
        drawdowns.contract_id,
        to_store.invoice_version,
        sum(drawdowns.drawn_amount) as drawn_amount
    from {{ ref('int_balance_drawdowns') }} as drawdowns
    inner join to_store
        on drawdowns.invoice_id = to_store.invoice_id
    group by drawdowns.balance_id, drawdowns.invoice_id, drawdowns.contract_id, to_store.invoice_version

),

{%- set stamps = {
    'stored_at': billing._timestamp_literal(run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f")),
    'stored_as_of': billing.as_of(),
    'events_loaded_through': 'seen_events.events_loaded_through',
    'stored_by_invocation_id': "'" ~ invocation_id ~ "'"} %}

final as (

    {{ billing.invoice_store_rows('invoice', 'to_store', stamps) }}
    from to_store
    cross join seen_events

    union all

    {{ billing.invoice_store_rows('line', 'lines', stamps) }}
    from lines
    cross join seen_events

    union all

    {{ billing.invoice_store_rows('drawdown', 'drawdowns', stamps) }}
    from drawdowns
    cross join seen_events

)

select * from final
