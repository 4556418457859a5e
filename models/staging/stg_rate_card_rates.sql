with source as (

    select * from {{ billing.catalog_relation('rate_card_rates') }}

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
        {#- never null, so that a row missing a part is named by the catalog check, not by this key's test #}
        {{ dbt.hash(dbt.concat([
            "coalesce(trim(rate_card_id), '')", "'|'", "coalesce(trim(product_id), '')", "'|'",
            "coalesce(trim(starting_at), '')", "'|'", "coalesce(trim(pricing_group_values), '')"
        ])) }} as rate_id,
        trim(rate_card_id) as rate_card_id,
        trim(product_id) as product_id,
        {{ billing.utc_timestamp_from_parts('starting_at_parts') }} as starting_at,
        {{ billing.utc_timestamp_from_parts('ending_before_parts') }} as ending_before,
        coalesce({{ billing.to_boolean('entitled') }}, true) as is_entitled,
        upper(trim(rate_type)) as rate_type,
        {{ billing.try_to_decimal('price') }} as price,
        nullif(trim(tiers), '') as tiers,
        {{ billing.try_to_decimal('package_size') }} as package_size,
        nullif(trim(pricing_group_values), '') as pricing_group_values,
        upper(nullif(trim(billing_frequency), '')) as billing_frequency
    from timestamp_parts

)

select * from final
