{#-
  The resolution of applicable overrides (DATA_CONTRACT semantics 7, DECISIONLOG D12, D16), taken
  once for every priced item: usage rate segments (int_segment_overrides) and subscription service
  periods (int_subscription_overrides). `applicable` is a CTE with one row per (item, override in
  effect at the item's start and matching it), columns `key` (the item's id), override_id,
  override_type, rate_type, price, tiers, multiplier, is_entitled, priority, starting_at. Emits the
  CTEs that reduce them to one row per item, ending in `resolved` with
    is_entitled            the highest-priority entitlement override's (null: none),
    overwrite_override_id  the OVERWRITE with the lowest priority number (then override_id), with
                           its rate_type, price and whether it has its own tiers,
    multiplier             the lowest applicable MULTIPLIER (null: none).
  Example: `with applicable_overrides as (...), {{ billing.resolve_overrides('applicable_overrides', 'segment_id') }}
  select * from resolved`.
-#}
{% macro resolve_overrides(applicable, key) -%}
overridden_items as (

    select distinct {{ key }}
    from {{ applicable }}

),

entitlement_overrides as (

    select *
    from (
        select
            {{ key }},
            is_entitled,
            row_number() over (
                partition by {{ key }}
                order by priority asc nulls last, starting_at desc, override_id asc
            ) as override_rank
        from {{ applicable }}
        where is_entitled is not null
    ) as ranked
    where override_rank = 1

),

overwrites as (

    select *
    from (
        select
            *,
            row_number() over (partition by {{ key }} order by priority asc nulls last, override_id asc) as override_rank
        from {{ applicable }}
        where override_type = 'OVERWRITE'
    ) as ranked
    where override_rank = 1

),

multipliers as (

    select {{ key }}, min(multiplier) as multiplier
    from {{ applicable }}
    where override_type = 'MULTIPLIER'
    group by {{ key }}

),

resolved as (

    select
        overridden_items.{{ key }},
        entitlement_overrides.is_entitled,
        overwrites.override_id as overwrite_override_id,
        overwrites.rate_type as overwrite_rate_type,
        overwrites.price as overwrite_price,
        overwrites.tiers is not null as has_overwrite_tiers,
        multipliers.multiplier
    from overridden_items
    left join entitlement_overrides
        on overridden_items.{{ key }} = entitlement_overrides.{{ key }}
    left join overwrites
        on overridden_items.{{ key }} = overwrites.{{ key }}
    left join multipliers
        on overridden_items.{{ key }} = multipliers.{{ key }}

)
{%- endmacro %}
