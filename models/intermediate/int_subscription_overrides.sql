{#-
  Resolved overrides per subscription service period (DATA_CONTRACT semantics 7, DECISIONLOG D21):
  the overrides in effect at the service period's start (dated like the rate, D21) that match its
  contract and product (int_override_products: product_id or all product_tags) and set no
  pricing_group_values (a subscription has no pricing groups), reduced by billing.resolve_overrides
  exactly as for usage segments: entitlement, the winning OVERWRITE's price, the lowest MULTIPLIER.
-#}
with service_periods as (

    select * from {{ ref('int_subscription_service_periods') }}

),

overrides as (

    select * from {{ ref('stg_contract_overrides') }}

),

override_products as (

    select * from {{ ref('int_override_products') }}

),

applicable_overrides as (

    select
        service_periods.service_period_id,
        overrides.override_id,
        overrides.override_type,
        overrides.rate_type,
        overrides.price,
        overrides.tiers,
        overrides.multiplier,
        overrides.is_entitled,
        overrides.priority,
        overrides.starting_at
    from service_periods
    inner join override_products
        on
            service_periods.contract_id = override_products.contract_id
            and service_periods.product_id = override_products.product_id
    inner join overrides
        on override_products.override_id = overrides.override_id
    where
        overrides.pricing_group_values is null
        and overrides.starting_at <= service_periods.service_starting_at
        and (overrides.ending_before is null or service_periods.service_starting_at < overrides.ending_before)

),

{{ billing.resolve_overrides('applicable_overrides', 'service_period_id') }},

final as (

    select * from resolved

)

select * from final
