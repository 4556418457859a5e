{#-
  The store of final invoices (DATA_CONTRACT semantics 10, DECISIONLOG D29). The first build at or
  after an invoice's finalization time appends it here as it is then; no build changes or removes
  it: the model only ever appends (incremental, full_refresh=false, so `dbt build --full-refresh`
  keeps it), and the rating models treat what it holds as final. Only `billing invoices void`
  takes an invoice out (keeping both versions in invoice_audit_log).
-#}
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false, on_schema_change='fail') }}

with newly_final as (

    {#- a preview build with billing_as_of ahead of the clock shows statuses but stores nothing -#}
    select * from {{ ref('int_open_invoices') }}
    where status = 'FINALIZED'
        and {{ billing.as_of() }} <= cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})

),

final as (

    select
        newly_final.*,
        {{ billing.as_of() }} as stored_at,
        '{{ invocation_id }}' as stored_by_invocation_id
    from newly_final
    {% if is_incremental() %}
    where newly_final.invoice_id not in (select invoice_id from {{ this }})
    {% endif %}

)

select * from final
