{#-
  The tiers of each TIERED and VOLUME usage line (DATA_CONTRACT semantics 6), per line that is
  priced (its quantity converted, its metered quantity not negative): every tier of the line's
  price source (int_price_tiers; tier k covers quantities in (tier_floor, tier_ceiling], the last
  has no ceiling) at its price x the segment's multiplier.
    tiered_amount      TIERED: each tier's units (the part of the quantity inside the tier) x its
                       price, summed. The tiers restart on each line (each segment).
    volume_unit_price  VOLUME: the price of the tier the quantity reaches, for every unit; a
                       quantity exactly on a tier's ceiling is in that tier, 0 in the first.
  What rating carries (DECISIONLOG D57): are_tier_prices_carried when every tier price x
  multiplier is below 10^17; is_tiered_carried when, besides, the tiers' units x prices sum below
  10^17 (checked in DOUBLE first: tiered_amount is computed only then).
-#}
with line_quantities as (

    select * from {{ ref('int_usage_line_quantities') }}

),

segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

tiers as (

    select * from {{ ref('int_price_tiers') }}

),

line_tier_prices as (

    select
        line_quantities.line_key,
        line_quantities.quantity,
        segments.price_multiplier,
        tiers.tier_index,
        tiers.tier_floor,
        tiers.tier_ceiling,
        tiers.tier_price,
        {{ billing.product_fits('tiers.tier_price', 'segments.price_multiplier') }} as is_price_carried
    from line_quantities
    inner join segments
        on line_quantities.segment_id = segments.segment_id
    inner join tiers
        on segments.price_source_id = tiers.price_source_id
    where segments.rate_type in ('TIERED', 'VOLUME')
        and line_quantities.is_convertible
        and line_quantities.metered_quantity >= 0

),

line_tiers as (

    {#- each tier's width within the line's quantity, and its price after the multiplier -#}
    select
        line_key,
        quantity,
        tier_index,
        tier_floor,
        tier_ceiling,
        is_price_carried,
        case when is_price_carried
            then cast({{ billing.multiply_exact('tier_price', 'price_multiplier') }} as {{ billing.type_decimal() }})
        end as tier_unit_price,
        case when quantity > tier_floor
            then {{ billing.add_exact(
                'case when tier_ceiling is null or quantity < tier_ceiling then quantity else tier_ceiling end',
                '-tier_floor'
            ) }}
            else 0
        end as tier_quantity
    from line_tier_prices

),

tier_checks as (

    {#- a TIERED amount is carried when every tier price is and the sum of the tiers' products is -#}
    select
        line_key,
        min(case when is_price_carried then 1 else 0 end) = 1
            and coalesce(sum(abs(cast(tier_quantity as double)) * abs(cast(tier_unit_price as double)))
                < {{ billing.max_carried() }}, true) as is_tiered_carried
    from line_tiers
    group by line_key

),

final as (

    select
        line_tiers.line_key,
        tier_checks.is_tiered_carried,
        sum(case when tier_checks.is_tiered_carried
            then {{ billing.multiply_exact('line_tiers.tier_quantity', 'line_tiers.tier_unit_price') }} end)
            as tiered_amount,
        max(case
            when (line_tiers.quantity > line_tiers.tier_floor or line_tiers.tier_index = 1)
                and (line_tiers.tier_ceiling is null or line_tiers.quantity <= line_tiers.tier_ceiling)
                then line_tiers.tier_unit_price
        end) as volume_unit_price,
        min(case when line_tiers.is_price_carried then 1 else 0 end) = 1 as are_tier_prices_carried
    from line_tiers
    inner join tier_checks
        on line_tiers.line_key = tier_checks.line_key
    group by line_tiers.line_key, tier_checks.is_tiered_carried

)

select * from final
