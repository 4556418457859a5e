with source as (

    select * from {{ billing.catalog_relation('rate_cards') }}

),

final as (

    select
        trim(rate_card_id) as rate_card_id,
        name,
        coalesce(upper(nullif(trim(currency), '')), 'USD') as currency
    from source

)

select * from final
