{#-
  Every invoice (DATA_CONTRACT outputs): the final ones as stored (finalized_invoices, never
  re-rated) and the open ones (DRAFT) as rated by this build.
  total = subtotal - credits_applied - commits_applied = sum of the invoice's rounded lines.
  On DuckDB the table keeps the rows of final invoices whose version has not changed and rewrites the
  others (macros/invoice_marts.sql).
-#}
{{ config(
    materialized=billing.invoice_mart_materialization(),
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ billing.keep_current_invoice_versions(ref('invoice_store')) }}",
    post_hook="{{ billing.record_invoice_mart_code_version(ref('invoice_store')) }}",
) }}
with stored as (

    select * from {{ ref('finalized_invoices') }}

),

stored_invoices as (

    {#- the ids alone, not `stored` again: a CTE read twice is kept whole (D83), every final invoice -#}
    select invoice_id from {{ ref('finalized_invoices') }}

),

open_invoices as (

    select * from {{ ref('int_open_invoices') }}

),

still_open as (

    select open_invoices.*
    from open_invoices
    left join stored_invoices
        on open_invoices.invoice_id = stored_invoices.invoice_id
    where stored_invoices.invoice_id is null

),

unioned as (

    select
        {{ billing.invoice_columns() }},
        invoice_version,
        stored_at,
        stored_as_of
    from stored
    where {{ billing.invoice_written('stored.invoice_id') }}

    union all

    select
        {{ billing.invoice_columns() }},
        cast(null as {{ dbt.type_bigint() }}) as invoice_version,
        cast(null as {{ dbt.type_timestamp() }}) as stored_at,
        cast(null as {{ dbt.type_timestamp() }}) as stored_as_of
    from still_open
    where {{ billing.invoice_not_held('still_open.invoice_id') }}

),

final as (

    select * from unioned

)

select * from final
