{#- Rows of seeds/rate_cards.csv that break a catalog rule: (seed, row_key, problem). -#}
{{ billing.row_problems('rate_cards', 'rate_card_id', [
    [billing.missing('rate_card_id'), 'rate_card_id is missing'],
    [
        "currency is not null and trim(currency) <> '' and length(trim(currency)) <> 3",
        'currency is not an ISO 4217 code'
    ],
    [
        billing.currency_minor_units("upper(trim(currency))") ~ ' > ' ~ billing.money_scale(),
        'currency has a minor unit finer than the ' ~ billing.money_scale() ~ ' decimal places money keeps (D20)'
    ],
]) }}
union all
{{ billing.config_problem(
    'rate_cards', 'rate_card_id',
    billing.duplicate_key('rate_cards', 'rate_card_id'),
    'rate_card_id is not unique'
) }}
