{#-
  Usage lines priced (DATA_CONTRACT semantics 4 to 6): each line's quantity
  (int_usage_line_quantities) priced by its segment's rate after overrides, by rate type through
  billing.usage_amount (macros/price_usage.sql; TIERED and VOLUME from int_tier_amounts), the
  amount rounded half-up to the currency's minor unit (D20). usage_problem marks a line not billed as it stands
  (int_usage_problems; its invoice is held as a DRAFT):
    quantity_out_of_range  the conversion's product (or a divided quantity) is not below 10^17
    negative_quantity      the metered quantity is below zero: priced 0.00 whatever the price model
    amount_out_of_range    a price product (quantity x price, a tier's, price x multiplier) is not
                           below 10^17: the line has no amount (DECISIONLOG D57, D58)
  No product is computed before its magnitude is checked (billing.usage_amount_fits), so one
  contract's quantities cannot stop the build for every other.
-#}
with line_quantities as (

    select * from {{ ref('int_usage_line_quantities') }}

),

segments as (

    select * from {{ ref('int_usage_rate_segments') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

tier_amounts as (

    select * from {{ ref('int_tier_amounts') }}

),

contract_currencies as (

    select * from {{ ref('int_contract_currencies') }}

),

lines as (

    select
        line_quantities.line_key,
        line_quantities.presentation_group_values,
        line_quantities.event_count,
        line_quantities.metered_quantity,
        line_quantities.is_convertible,
        line_quantities.quantity,
        products.name,
        segments.invoice_id,
        segments.contract_id,
        segments.customer_id,
        segments.product_id,
        segments.period_starting_at,
        segments.period_ending_before,
        segments.segment_starting_at,
        segments.segment_ending_before,
        segments.pricing_group_values,
        segments.rate_type,
        segments.package_size,
        case segments.rate_type
            when 'VOLUME' then tier_amounts.volume_unit_price
            when 'TIERED' then null
            else segments.unit_price
        end as line_unit_price,
        tier_amounts.tiered_amount,
        tier_amounts.is_tiered_carried,
        tier_amounts.are_tier_prices_carried,
        contract_currencies.currency
    from line_quantities
    inner join segments
        on line_quantities.segment_id = segments.segment_id
    inner join products
        on segments.product_id = products.product_id
    left join tier_amounts
        on line_quantities.line_key = tier_amounts.line_key
    inner join contract_currencies
        on segments.contract_id = contract_currencies.contract_id

),

checked_lines as (

    select
        lines.*,
        case
            when not lines.is_convertible then 'quantity_out_of_range'
            when lines.metered_quantity < 0 then 'negative_quantity'
            when not {{ billing.usage_amount_fits(
                'rate_type', 'quantity', 'line_unit_price', 'package_size', 'is_tiered_carried', 'are_tier_prices_carried'
            ) }} then 'amount_out_of_range'
        end as usage_problem
    from lines

),

priced as (

    select
        checked_lines.*,
        case
            when checked_lines.usage_problem = 'negative_quantity' then 0
            when checked_lines.usage_problem is not null then null
            else {{ billing.usage_amount('rate_type', 'quantity', 'line_unit_price', 'package_size', 'tiered_amount') }}
        end as unrounded_amount
    from checked_lines

),

final as (

    select
        {{ dbt.hash(dbt.concat(["line_key", "'|usage'"])) }} as line_item_id,
        invoice_id,
        contract_id,
        customer_id,
        'usage' as line_type,
        product_id,
        name,
        segment_starting_at as starting_at,
        segment_ending_before as ending_before,
        pricing_group_values,
        presentation_group_values,
        quantity,
        line_unit_price as unit_price,
        {{ billing.round_money('unrounded_amount', 'currency') }} as amount,
        event_count,
        rate_type,
        period_starting_at,
        period_ending_before,
        metered_quantity,
        usage_problem
    from priced

)

select * from final
