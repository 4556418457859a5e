{#- Malformed tiers (of rates and overrides): sizes above 0 on every tier but the last, which has none; prices >= 0. -#}
with tiers as (

    select * from {{ ref('int_price_tiers') }}

),

tier_counts as (

    select price_source_id, max(tier_index) as tier_count
    from tiers
    group by price_source_id

),

final as (

    select tiers.price_source_id, 'tier ' || cast(tiers.tier_index as {{ dbt.type_string() }}) || ' ' ||
        case
            when tiers.tier_price is null or tiers.tier_price < 0 then 'needs a price of 0 or more'
            when tiers.tier_index < tier_counts.tier_count and (tiers.tier_size is null or tiers.tier_size <= 0)
                then 'needs a size above 0 (only the last tier has no size)'
            else 'is the last tier and must have no size'
        end as problem
    from tiers
    inner join tier_counts
        on tiers.price_source_id = tier_counts.price_source_id
    where tiers.tier_price is null or tiers.tier_price < 0
        or (tiers.tier_index < tier_counts.tier_count and (tiers.tier_size is null or tiers.tier_size <= 0))
        or (tiers.tier_index = tier_counts.tier_count and tiers.tier_size is not null)

)

select * from final
