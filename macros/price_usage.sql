{#-
  Pricing by rate type (DATA_CONTRACT semantics 6), in one place: a usage line's amount before
  rounding to cents, and whether every product computing it can be carried exactly (DECISIONLOG
  D57: below max_carried(), checked in DOUBLE before the exact product is computed). The
  arguments are SQL expressions; unit_price is the line's (the rate's price x multiplier, for
  VOLUME the reached tier's), the tiers' sums come from int_tier_amounts.
    FLAT      quantity x unit_price
    PACKAGE   ceil(quantity / package_size) x unit_price: a partial package costs a whole one
    TIERED    tiered_amount: each unit at the price of the tier it falls in
    VOLUME    quantity x unit_price: every unit at the price of the tier the quantity reaches
  Any other rate type has no amount (NULL) and no check (NULL).
-#}
{% macro usage_amount(rate_type, quantity, unit_price, package_size, tiered_amount) -%}
case {{ rate_type }}
    when 'FLAT' then {{ billing.multiply_exact(quantity, unit_price) }}
    when 'PACKAGE' then {{ billing.multiply_exact(billing.ceil_divide(quantity, package_size), unit_price) }}
    when 'TIERED' then {{ tiered_amount }}
    when 'VOLUME' then {{ billing.multiply_exact(quantity, unit_price) }}
end
{%- endmacro %}

{#-
  True when usage_amount() of the same line can be computed exactly: FLAT and VOLUME quantity x
  unit_price (VOLUME: and every tier price x multiplier), PACKAGE the quantity and package size
  and the packages x unit_price, TIERED every tier's (int_tier_amounts.is_tiered_carried).
-#}
{% macro usage_amount_fits(rate_type, quantity, unit_price, package_size, is_tiered_carried, are_tier_prices_carried) -%}
case {{ rate_type }}
    when 'FLAT' then {{ billing.product_fits(quantity, unit_price) }}
    when 'PACKAGE' then {{ billing.product_fits(quantity, 1) }}
        and {{ billing.product_fits(package_size, 1) }}
        and {{ billing.product_fits(
            'abs(cast(' ~ quantity ~ ' as double)) / cast(' ~ package_size ~ ' as double) + 1', unit_price
        ) }}
    when 'TIERED' then {{ is_tiered_carried }}
    when 'VOLUME' then {{ are_tier_prices_carried }} and {{ billing.product_fits(quantity, unit_price) }}
end
{%- endmacro %}
