{#-
  One row per build that got as far as the invoice store (DECISIONLOG D45): when it ran (real
  time), the billing_as_of it evaluated statuses at, whether that as-of was a preview (ahead of
  the clock: nothing stored) and how many invoices it stored. `billing invoices void` regenerates
  as of the last non-preview build by default, so that voiding never moves the database to another
  as-of (and never finalizes other periods) behind the user's back. Plain `dbt build` records it
  too. Append-only (full_refresh=false); it runs after invoice_store, so a build that failed
  before storing is not recorded.
-#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, on_schema_change='fail') }}

{%- set started_at =
    "cast('" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") ~ "' as " ~ dbt.type_timestamp() ~ ")" %}

with stored as (

    select count(*) as invoices_stored
    from {{ ref('invoice_store') }}
    where
        record_type = 'invoice'
        and stored_by_invocation_id = '{{ invocation_id }}'

),

final as (

    select
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as invocation_id,
        {{ started_at }} as started_at,
        {{ billing.as_of() }} as billing_as_of,
        case when {{ billing.as_of() }} > {{ started_at }} then true else false end as is_preview,
        cast(stored.invoices_stored as {{ dbt.type_bigint() }}) as invoices_stored
    from stored

)

select * from final
