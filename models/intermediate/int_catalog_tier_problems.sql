{#-
  Malformed tiers (of rates and overrides): sizes above 0 on every tier but the last, which has
  none; prices >= 0; sizes and prices within the precision and bounds of D54 and D55.
-#}
with tiers as (

    select * from {{ ref('int_price_tiers') }}

),

tier_counts as (

    select
        price_source_id,
        max(tier_index) as tier_count
    from tiers
    group by price_source_id

),

shape_problems as (

    select
        tiers.price_source_id,
        'tier ' || cast(tiers.tier_index as {{ dbt.type_string() }}) || ' '
        || case
            when tiers.tier_price is null or tiers.tier_price < 0 then 'needs a price of 0 or more'
            when tiers.tier_index < tier_counts.tier_count and (tiers.tier_size is null or tiers.tier_size <= 0)
                then 'needs a size above 0 (only the last tier has no size)'
            else 'is the last tier and must have no size'
        end as problem
    from tiers
    inner join tier_counts
        on tiers.price_source_id = tier_counts.price_source_id
    where
        tiers.tier_price is null or tiers.tier_price < 0
        or (tiers.tier_index < tier_counts.tier_count and (tiers.tier_size is null or tiers.tier_size <= 0))
        or (tiers.tier_index = tier_counts.tier_count and tiers.tier_size is not null)

),

number_problems as (

    {%- for column, kind in [('size', 'size'), ('price', 'unit_price')] %}
    select
        price_source_id,
        'tier '
        || cast(tier_index as {{ dbt.type_string() }})
        || ' {{ column }} {{ billing.number_problem(kind, 'places') }}' as problem
    from tiers
    where {{ billing.too_precise('tier_' ~ column ~ '_text', kind) }}
    union all
    select
        price_source_id,
        'tier '
        || cast(tier_index as {{ dbt.type_string() }})
        || ' {{ column }} {{ billing.number_problem(kind, 'bound') }}' as problem
    from tiers
    where {{ billing.too_large('tier_' ~ column ~ '_text', kind) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select * from shape_problems
    union all
    select * from number_problems

)

select * from final
