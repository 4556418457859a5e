with source as (

    select * from {{ ref('contract_scheduled_charges') }}

),

final as (

    select
        trim(scheduled_charge_id) as scheduled_charge_id,
        trim(contract_id) as contract_id,
        trim(product_id) as product_id,
        name,
        {{ billing.parse_utc_timestamp('timestamp') }} as scheduled_at,
        {{ billing.try_to_decimal('amount') }} as amount,
        upper(nullif(trim(frequency), '')) as frequency,
        {{ billing.parse_utc_timestamp('ending_before') }} as ending_before
    from source

)

select * from final
