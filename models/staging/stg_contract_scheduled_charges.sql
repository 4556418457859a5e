with source as (

    select * from {{ billing.catalog_relation('contract_scheduled_charges') }}

),

timestamp_parts as (

    select
        *,
        {{ billing.timestamp_parts('timestamp') }} as timestamp_parts,
        {{ billing.timestamp_parts('ending_before') }} as ending_before_parts
    from source

),

final as (

    select
        trim(scheduled_charge_id) as scheduled_charge_id,
        trim(contract_id) as contract_id,
        trim(product_id) as product_id,
        name,
        {{ billing.utc_timestamp_from_parts('timestamp_parts') }} as scheduled_at,
        {{ billing.try_to_decimal('amount') }} as amount,
        upper(nullif(trim(frequency), '')) as frequency,
        {{ billing.utc_timestamp_from_parts('ending_before_parts') }} as ending_before
    from timestamp_parts

)

select * from final
