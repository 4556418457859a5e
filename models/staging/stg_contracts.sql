with source as (

    select * from {{ ref('contracts') }}

),

final as (

    select
        trim(contract_id) as contract_id,
        trim(customer_id) as customer_id,
        trim(rate_card_id) as rate_card_id,
        name,
        {{ billing.parse_utc_timestamp('starting_at') }} as starting_at,
        {{ billing.parse_utc_timestamp('ending_before') }} as ending_before,
        coalesce(upper(nullif(trim(usage_statement_frequency), '')), 'MONTHLY') as usage_statement_frequency,
        coalesce(upper(nullif(trim(usage_statement_day), '')), 'FIRST_OF_MONTH') as usage_statement_day,
        coalesce({{ billing.try_to_integer('net_payment_terms_days') }}, 0) as net_payment_terms_days
    from source

)

select * from final
