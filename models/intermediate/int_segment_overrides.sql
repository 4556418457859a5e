{#-
  Resolved overrides per segment (DATA_CONTRACT semantics 7, DECISIONLOG D12, D16): for each rate
  segment (int_segment_rates) with an override in effect at its start that matches its contract,
  product (int_override_products) and, when the override has pricing_group_values, its pricing
  group, one row with
    is_entitled              the highest-priority entitlement override's (null: none),
    overwrite_override_id    the OVERWRITE with the lowest priority number (then override_id), with
                             its rate_type, price and whether it has its own tiers,
    multiplier               the lowest applicable MULTIPLIER (null: none).
  int_usage_rate_segments applies them: an OVERWRITE replaces the rate, else the multiplier scales it.
  The resolution itself is billing.resolve_overrides, shared with subscriptions.
-#}
with segment_rates as (

    select * from {{ ref('int_segment_rates') }}

),

overrides as (

    select * from {{ ref('stg_contract_overrides') }}

),

catalog_group_values as (

    select * from {{ ref('int_catalog_group_values') }}

),

override_products as (

    select
        applied.*,
        override_groups.pricing_group_values as pricing_group
    from {{ ref('int_override_products') }} as applied
    inner join overrides
        on applied.override_id = overrides.override_id
    left join catalog_group_values as override_groups
        on
            applied.product_id = override_groups.product_id
            and overrides.pricing_group_values = override_groups.source_values

),

applicable_overrides as (

    select
        segment_rates.segment_id,
        overrides.override_id,
        overrides.override_type,
        overrides.rate_type,
        overrides.price,
        overrides.tiers,
        overrides.multiplier,
        overrides.is_entitled,
        overrides.priority,
        overrides.starting_at
    from segment_rates
    inner join override_products
        on
            segment_rates.contract_id = override_products.contract_id
            and segment_rates.product_id = override_products.product_id
            and (
                override_products.pricing_group is null
                or segment_rates.pricing_group = override_products.pricing_group
            )
    inner join overrides
        on override_products.override_id = overrides.override_id
    where
        overrides.starting_at <= segment_rates.segment_starting_at
        and (overrides.ending_before is null or segment_rates.segment_starting_at < overrides.ending_before)

),

{{ billing.resolve_overrides('applicable_overrides', 'segment_id') }},

final as (

    select * from resolved

)

select * from final
