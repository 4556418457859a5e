{#- Canonical pricing and presentation groups of metered events' group values, per product billed by their
    metric (events of the periods rated). -#}
-- depends_on: {{ ref('int_periods_to_rate') }}
with products as (

    select * from {{ ref('stg_products') }}

),

keyed_products as (

    select distinct product_id from {{ ref('int_product_group_keys') }}

),

sources as (

    select distinct
        products.product_id,
        metered.group_values as source_values
    from {{ ref('int_metered_events') }} as metered
    inner join products
        on metered.billable_metric = products.billable_metric
    inner join keyed_products
        on products.product_id = keyed_products.product_id
    where
        metered.group_values is not null
        and metered.event_at >= {{ billing.rating_window_start() }}

),

final as (

    {{ billing.canonical_group_values('sources') }}

)

select * from final
