{#-
  Which charges each balance may draw down (DATA_CONTRACT semantics 8, DECISIONLOG D26): one row
  per (charge line of an open USAGE invoice, balance of its contract) where
    - the line's amount is positive, after netting the lines of the invoice for the same product,
      service period and groups (int_drawable_charges),
    - the balance applies to the line's product: no applicable lists = every USAGE, COMPOSITE and
      SUBSCRIPTION product (the only products on USAGE-invoice charge lines); otherwise the product
      is one of int_balance_products (listed by id or by tag),
    - the line's service period [starting_at, ending_before) lies within the access window, and its
      invoice's period starts before the window ends (a late adjustment for the window, billed
      after it ended, finds the rest already expired),
    - the balance has something left after what final invoices drew (balance_amount is that rest,
      int_balance_available_amounts).
-#}
-- depends_on: {{ ref('int_catalog_problems') }}
with charges as (

    select * from {{ ref('int_drawable_charges') }}

),

available as (

    select * from {{ ref('int_balance_available_amounts') }}

),

balance_products as (

    select * from {{ ref('int_balance_products') }}

),

within_window as (

    select
        charges.line_item_id,
        charges.invoice_id,
        charges.contract_id,
        charges.period_starting_at,
        charges.starting_at,
        charges.ending_before,
        charges.product_id,
        charges.amount,
        balances.balance_id,
        balances.drawdown_rank,
        balances.available_amount as balance_amount,
        balances.applies_to_all_products
    from charges
    inner join available as balances
        on
            charges.contract_id = balances.contract_id
            and charges.starting_at >= balances.access_starting_at
            and (balances.access_ending_before is null or (
                charges.ending_before <= balances.access_ending_before
                and charges.period_starting_at < balances.access_ending_before
            ))
            and balances.available_amount > 0

),

final as (

    select
        within_window.line_item_id,
        within_window.invoice_id,
        within_window.contract_id,
        within_window.period_starting_at,
        within_window.starting_at,
        within_window.ending_before,
        within_window.product_id,
        within_window.amount,
        within_window.balance_id,
        within_window.drawdown_rank,
        within_window.balance_amount
    from within_window
    left join balance_products
        on
            within_window.balance_id = balance_products.balance_id
            and within_window.product_id = balance_products.product_id
    where
        within_window.applies_to_all_products
        or balance_products.balance_id is not null

)

select * from final
