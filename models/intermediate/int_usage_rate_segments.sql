{#-
  Rate segments with their price after overrides (DATA_CONTRACT semantics 4-7): each segment's rate
  (int_segment_rates: periods split at the rate change points, one row per rate and pricing group)
  with its resolved overrides (int_segment_overrides) applied. Entitlement: the override's, else
  the rate's `entitled`. Price (D16): the OVERWRITE replaces the rate's type and price (its tiers,
  if any, become the price source); otherwise the multiplier scales the rate's price(s).
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with segment_rates as (

    select * from {{ ref('int_segment_rates') }}

),

segment_overrides as (

    select * from {{ ref('int_segment_overrides') }}

),

resolved as (

    select
        segment_rates.segment_id,
        segment_rates.invoice_id,
        segment_rates.contract_id,
        segment_rates.customer_id,
        segment_rates.product_id,
        segment_rates.pricing_group as pricing_group_values,
        segment_rates.period_starting_at,
        segment_rates.period_ending_before,
        segment_rates.segment_starting_at,
        segment_rates.segment_ending_before,
        segment_rates.rate_id,
        segment_overrides.overwrite_override_id,
        case when segment_overrides.overwrite_override_id is not null
            then coalesce(segment_overrides.overwrite_rate_type, segment_rates.rate_type)
            else segment_rates.rate_type end as rate_type,
        case when segment_overrides.overwrite_override_id is not null
            then coalesce(segment_overrides.overwrite_price, segment_rates.price)
            else segment_rates.price end as base_price,
        case when segment_overrides.overwrite_override_id is not null then cast(1 as {{ billing.type_decimal() }})
            else coalesce(segment_overrides.multiplier, cast(1 as {{ billing.type_decimal() }})) end as price_multiplier,
        case when segment_overrides.has_overwrite_tiers then segment_overrides.overwrite_override_id
            else segment_rates.rate_id end as price_source_id,
        segment_rates.package_size,
        coalesce(segment_overrides.is_entitled, segment_rates.is_rate_entitled, false) as is_entitled
    from segment_rates
    left join segment_overrides
        on segment_rates.segment_id = segment_overrides.segment_id

),

final as (

    select
        *,
        cast({{ billing.multiply_exact('base_price', 'price_multiplier') }} as {{ billing.type_decimal() }}) as unit_price
    from resolved

)

select * from final
