{#-
  Tiers of TIERED and VOLUME prices, from rates (price_source_id = rate_id) and from OVERWRITE
  overrides (price_source_id = override_id). Tier k covers quantities in (tier_floor, tier_ceiling];
  the last tier has no size and no ceiling. The texts are kept for the catalog checks (D54).
-#}
with rates as (

    select rate_id as price_source_id, tiers
    from {{ ref('stg_rate_card_rates') }}
    where tiers is not null

),

overrides as (

    select override_id as price_source_id, tiers
    from {{ ref('stg_contract_overrides') }}
    where tiers is not null

),

sources as (

    select * from rates
    union all
    select * from overrides

),

unnested as (

    {{ billing.unnest_tiers('sources', 'price_source_id', 'tiers') }}

),

typed as (

    select
        price_source_id,
        tier_index,
        -- a size beyond its bound (D55) is a catalog problem; NULL here, so the running sums cannot overflow
        {{ billing.try_to_decimal('tier_size', below=billing.catalog_number_rule('size')[1]) }} as tier_size,
        {{ billing.try_to_decimal('tier_price') }} as tier_price,
        tier_size as tier_size_text,
        tier_price as tier_price_text
    from unnested

),

final as (

    select
        price_source_id,
        tier_index,
        tier_size,
        tier_price,
        coalesce(sum(tier_size) over (
            partition by price_source_id order by tier_index rows between unbounded preceding and 1 preceding
        ), 0) as tier_floor,
        {#- a running sum, not floor + size: Spark adds two DECIMAL(38, 10) at 9 places (D59) #}
        case when tier_size is not null then
            sum(tier_size) over (
                partition by price_source_id order by tier_index rows between unbounded preceding and current row
            )
        end as tier_ceiling,
        tier_size_text,
        tier_price_text
    from typed

)

select * from final
