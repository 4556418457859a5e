{#- One row per ingest alias: the identifier events may carry instead of the customer_id. -#}
with customers as (

    select * from {{ ref('stg_customers') }}

),

aliases as (

    {{ billing.unnest_json_array('customers', 'customer_id', 'ingest_aliases', 'ingest_alias') }}

),

final as (

    select distinct
        ingest_alias,
        customer_id
    from aliases
    where ingest_alias is not null and trim(ingest_alias) <> ''

)

select * from final
