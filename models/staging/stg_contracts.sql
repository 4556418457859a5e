with source as (

    select * from {{ billing.catalog_relation('contracts') }}

),

timestamp_parts as (

    select
        *,
        {{ billing.timestamp_parts('starting_at') }} as starting_at_parts,
        {{ billing.timestamp_parts('ending_before') }} as ending_before_parts
    from source

),

final as (

    select
        trim(contract_id) as contract_id,
        trim(customer_id) as customer_id,
        trim(rate_card_id) as rate_card_id,
        name,
        {{ billing.utc_timestamp_from_parts('starting_at_parts') }} as starting_at,
        {{ billing.utc_timestamp_from_parts('ending_before_parts') }} as ending_before,
        coalesce(upper(nullif(trim(usage_statement_frequency), '')), 'MONTHLY') as usage_statement_frequency,
        coalesce(upper(nullif(trim(usage_statement_day), '')), 'FIRST_OF_MONTH') as usage_statement_day,
        coalesce({{ billing.try_to_integer('net_payment_terms_days') }}, 0) as net_payment_terms_days
    from timestamp_parts

)

select * from final
