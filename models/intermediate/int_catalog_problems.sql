{#-
  Every catalog problem found in the seeds, as (seed, row_key, problem). The test
  assert_catalog_has_no_problems fails the build when this has rows, and every rating model depends
  on it, so a bad catalog stops the build before any invoice is computed.
-#}
{%- set checks = ['customers', 'products', 'rate_cards', 'rate_card_rates', 'contracts',
                  'contract_overrides', 'contract_scheduled_charges', 'contract_subscriptions',
                  'balance_columns', 'balances', 'group_keys', 'pricing_group_values'] -%}
with problems as (

    {% for check in checks %}
    select
        seed,
        row_key,
        problem
    from {{ ref('int_catalog_problems__' ~ check) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from problems

)

select * from final
