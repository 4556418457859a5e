{#- The drawdown rows of the final invoices (their current version; DECISIONLOG D43), read from the invoice store. -#}
{{ config(materialized='view') }}

with final as (

    {{ billing.current_store_records(ref('invoice_store'), 'drawdown') }}

)

select * from final
