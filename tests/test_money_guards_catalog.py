"""Catalog money guards (issue #16; DECISIONLOG D54, D55): a catalog number with more decimal places
than it is kept to, or beyond the bound that keeps the rating arithmetic exact, is a catalog problem
naming seed, row and column, never rounded silently nor left to overflow; numbers within the rules
(exponents, trailing zeros, values at the limits) are billed exactly."""

from __future__ import annotations

from conftest import BillingTestProject, D

AS_OF = "2025-03-05T00:00:00Z"
START = "2025-01-01T00:00:00Z"
METRICS = """billable_metrics:
  - {name: units, event_type: use, aggregation: sum, property: n}
  - {name: bytes, event_type: egress, aggregation: sum, property: b}
  - {name: few, event_type: few, aggregation: sum, property: n}
"""


def rate(product_id, **fields):
    return {"rate_card_id": "rc", "product_id": product_id, "starting_at": START, **fields}


def rate_key(product_id):
    return f"rc/{product_id}/{START}"


def tier_key(product_id):  # tier problems name the rate by its parsed start (as overlap problems do)
    return f"rc/{product_id}/2025-01-01 00:00:00.000000"


def usage_product(product_id, **fields):
    return {"product_id": product_id, "name": product_id, "type": "USAGE", "billable_metric": "units", **fields}


def base_seeds(**tables):
    return dict(
        customers=[{"customer_id": "c1", "name": "One"}],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "name": "K", "starting_at": START}],
        **tables,
    )


def prepare_bad_catalog(p: BillingTestProject) -> None:
    """A catalog with numbers beyond their places or bounds (and a few within them)."""
    p.metrics(METRICS)
    p.seeds(
        **base_seeds(
            products=[
                *(
                    usage_product(pid)
                    for pid in [
                        "p_tiny",
                        "p_third",
                        "p_per_byte",
                        "p_huge",
                        "p_package",
                        "p_tiers",
                        "p_tier_huge",
                        "p_tier_sum",
                        "p_ok",
                    ]
                ),
                usage_product(
                    "p_factor_huge", quantity_conversion_operation="MULTIPLY", quantity_conversion_factor="1e18"
                ),
                usage_product(
                    "p_factor_fine", quantity_conversion_operation="DIVIDE", quantity_conversion_factor="0.00000000001"
                ),
                {"product_id": "p_comp", "name": "Support", "type": "COMPOSITE", "composite_product_ids": ["p_ok"]},
                {"product_id": "p_seat", "name": "Seat", "type": "SUBSCRIPTION"},
                {"product_id": "p_fee", "name": "Fee", "type": "FIXED"},
            ],
            rate_card_rates=[
                # the cases: 11 decimal places, 1.5e-10 (would bill +33%), $0.02/GB per byte
                rate("p_tiny", rate_type="FLAT", price="0.00000000004"),
                rate("p_third", rate_type="FLAT", price="1.5e-10"),
                rate("p_per_byte", rate_type="FLAT", price="0.0000000000186"),
                rate("p_huge", rate_type="FLAT", price="1000000000"),
                rate("p_package", rate_type="PACKAGE", price="1", package_size="0.00000000001"),
                rate("p_tiers", rate_type="TIERED", tiers=[{"size": 1e-11, "price": "1"}, {"price": 4e-11}]),
                rate("p_tier_huge", rate_type="VOLUME", tiers=[{"size": "1e18", "price": "1"}, {"price": "1e9"}]),
                # each size fits DECIMAL(38, 10), their running sum would not (and halted every customer)
                rate(
                    "p_tier_sum",
                    rate_type="TIERED",
                    tiers=[
                        {"size": "9e27", "price": "1"},
                        {"size": "9e27", "price": "1"},
                        {"size": "9e27", "price": "1"},
                        {"price": "1"},
                    ],
                ),
                rate("p_ok", rate_type="FLAT", price="1"),
                rate("p_factor_huge", rate_type="FLAT", price="1"),
                rate("p_factor_fine", rate_type="FLAT", price="1"),
                rate("p_comp", rate_type="PERCENTAGE", price="10"),
                rate("p_seat", rate_type="SUBSCRIPTION", price="5", billing_frequency="MONTHLY"),
            ],
            contract_overrides=[
                {
                    "override_id": "o_mult_fine",
                    "contract_id": "k1",
                    "starting_at": START,
                    "product_id": "p_ok",
                    "type": "MULTIPLIER",
                    "multiplier": "0.99999999999",
                },
                {
                    "override_id": "o_mult_huge",
                    "contract_id": "k1",
                    "starting_at": START,
                    "product_id": "p_ok",
                    "type": "MULTIPLIER",
                    "multiplier": "1000",
                },
                {
                    "override_id": "o_price_fine",
                    "contract_id": "k1",
                    "starting_at": START,
                    "product_id": "p_ok",
                    "type": "OVERWRITE",
                    "price": "1e-11",
                    "priority": "2",
                },
                {
                    "override_id": "o_price_huge",
                    "contract_id": "k1",
                    "starting_at": START,
                    "product_id": "p_ok",
                    "type": "OVERWRITE",
                    "price": "2e9",
                    "priority": "3",
                },
                {
                    "override_id": "o_comp",
                    "contract_id": "k1",
                    "starting_at": START,
                    "product_id": "p_comp",
                    "type": "OVERWRITE",
                    "price": "12",
                    "priority": "1",
                },
            ],
            contract_subscriptions=[
                {
                    "subscription_id": "s_fine",
                    "contract_id": "k1",
                    "product_id": "p_seat",
                    "quantity": "1.00000000001",
                    "starting_at": START,
                },
                {
                    "subscription_id": "s_huge",
                    "contract_id": "k1",
                    "product_id": "p_seat",
                    "quantity": "1e9",
                    "starting_at": START,
                },
            ],
            contract_scheduled_charges=[
                # billed 0.01 before this rule (D14 rounds a line half-up)
                {
                    "scheduled_charge_id": "sc_cents",
                    "contract_id": "k1",
                    "product_id": "p_fee",
                    "name": "Half cent",
                    "timestamp": START,
                    "amount": "0.005",
                },
                {
                    "scheduled_charge_id": "sc_huge",
                    "contract_id": "k1",
                    "product_id": "p_fee",
                    "name": "Huge",
                    "timestamp": START,
                    "amount": "1e12",
                },
            ],
            contract_commits=[
                # rounds to 10.0000000000 as a DECIMAL(38, 10): only the text shows the 11th place
                {
                    "commit_id": "cm_fine",
                    "contract_id": "k1",
                    "type": "PREPAID",
                    "name": "c",
                    "amount": "10.00000000001",
                    "access_starting_at": START,
                    "invoice_at": START,
                    "invoice_amount": "9.999",
                },
            ],
            contract_credits=[
                {
                    "credit_id": "cr_huge",
                    "contract_id": "k1",
                    "name": "c",
                    "amount": "1000000000000",
                    "access_starting_at": START,
                },
            ],
        )
    )
    p.ingest(
        [
            {
                "transaction_id": "t1",
                "customer_id": "c1",
                "event_type": "use",
                "timestamp": "2025-01-10T00:00:00Z",
                "properties": {"n": 1},
            }
        ]
    )


def test_numbers_beyond_precision_or_bounds_fail_the_build_naming_row_and_column(make_project):
    p = make_project()
    prepare_bad_catalog(p)
    result = p.build(as_of=AS_OF, expect_success=False)
    text = "\n".join(result.problems)
    price_hint = (
        "price has more than 10 decimal places (unit prices keep 10; price a larger unit instead, "
        "e.g. per GB with quantity_conversion_operation DIVIDE and quantity_conversion_factor 1e9)"
    )
    overflow = "(larger values could overflow the exact arithmetic of amounts)"
    for expected in [
        f"seed=rate_card_rates.csv, row_key={rate_key('p_tiny')}, problem={price_hint}",
        f"seed=rate_card_rates.csv, row_key={rate_key('p_third')}, problem={price_hint}",
        f"seed=rate_card_rates.csv, row_key={rate_key('p_per_byte')}, problem={price_hint}",
        f"seed=rate_card_rates.csv, row_key={rate_key('p_huge')}, problem=price must be below 1000000000 {overflow}",
        f"seed=rate_card_rates.csv, row_key={rate_key('p_package')}, problem=package_size has more than 10 decimal places",
        f"seed=rate_card_rates.csv, row_key={tier_key('p_tiers')}, problem=tier 1 size has more than 10 decimal places",
        f"seed=rate_card_rates.csv, row_key={tier_key('p_tiers')}, problem=tier 2 price has more than 10 decimal places",
        f"seed=rate_card_rates.csv, row_key={tier_key('p_tier_huge')}, problem=tier 1 size must be below 1000000000000000000",
        f"seed=rate_card_rates.csv, row_key={tier_key('p_tier_huge')}, problem=tier 2 price must be below 1000000000",
        f"seed=rate_card_rates.csv, row_key={tier_key('p_tier_sum')}, problem=tier 3 size must be below 1000000000000000000",
        f"seed=rate_card_rates.csv, row_key={rate_key('p_comp')}, problem=price of a PERCENTAGE rate (a fraction) must be below 10 ",
        "seed=products.csv, row_key=p_factor_huge, problem=quantity_conversion_factor must be below 10000000000000000",
        "seed=products.csv, row_key=p_factor_fine, problem=quantity_conversion_factor has more than 10 decimal places",
        "seed=contract_overrides.csv, row_key=o_mult_fine, problem=multiplier has more than 10 decimal places",
        "seed=contract_overrides.csv, row_key=o_mult_huge, problem=multiplier must be below 1000",
        f"seed=contract_overrides.csv, row_key=o_price_fine, problem={price_hint}",
        "seed=contract_overrides.csv, row_key=o_price_huge, problem=price must be below 1000000000",
        "seed=contract_overrides.csv, row_key=o_comp, problem=price of an override of COMPOSITE product p_comp (a fraction) must be below 10 ",
        "seed=contract_subscriptions.csv, row_key=s_fine, problem=quantity has more than 10 decimal places",
        "seed=contract_subscriptions.csv, row_key=s_huge, problem=quantity must be below 1000000000",
        "seed=contract_scheduled_charges.csv, row_key=sc_cents, problem=amount has more than 2 decimal places (the currency minor unit)",
        "seed=contract_scheduled_charges.csv, row_key=sc_huge, problem=amount must be below 1000000000000",
        "seed=contract_commits.csv, row_key=cm_fine, problem=amount has more than 2 decimal places",
        "seed=contract_commits.csv, row_key=cm_fine, problem=invoice_amount has more than 2 decimal places",
        "seed=contract_credits.csv, row_key=cr_huge, problem=amount must be below 1000000000000",
    ]:
        assert expected in text, f"missing: {expected}\n{text}"
    # nothing else is refused: p_ok's rate, the seat price, the in-bounds values
    assert f"row_key={rate_key('p_ok')}" not in text and f"row_key={rate_key('p_seat')}" not in text, text
    assert not p.query("select * from information_schema.tables where table_name = 'fct_invoices'")


def test_numbers_within_the_rules_are_billed_exactly(make_project):
    p = make_project()
    p.metrics(METRICS)
    p.seeds(
        **base_seeds(
            products=[
                usage_product("p_ten_places"),
                usage_product("p_exponent"),
                usage_product("p_trailing"),
                usage_product("p_at_limit", billable_metric="few"),
                {
                    "product_id": "p_per_gb",
                    "name": "Egress",
                    "type": "USAGE",
                    "billable_metric": "bytes",
                    "quantity_conversion_operation": "DIVIDE",
                    "quantity_conversion_factor": "1e9",
                },
                {"product_id": "p_fee", "name": "Fee", "type": "FIXED"},
            ],
            rate_card_rates=[
                rate("p_ten_places", rate_type="FLAT", price="0.0000000004"),  # 4e-10: 10 places, kept
                rate("p_exponent", rate_type="FLAT", price="15e-10"),  # 1.5e-9: 10 places
                rate("p_trailing", rate_type="FLAT", price="0.25000000000000000000"),  # zeros do not count
                rate(
                    "p_at_limit",
                    rate_type="TIERED",
                    tiers=[{"size": "999999999999999999.9999999999", "price": "999999999.9999999999"}, {"price": 0}],
                ),
                rate("p_per_gb", rate_type="FLAT", price="0.02"),
            ],
            contract_overrides=[
                {
                    "override_id": "o_mult",
                    "contract_id": "k1",
                    "starting_at": START,
                    "product_id": "p_exponent",
                    "type": "MULTIPLIER",
                    "multiplier": "999.9999999999",
                },
            ],
            contract_scheduled_charges=[
                {
                    "scheduled_charge_id": "sc_big",
                    "contract_id": "k1",
                    "product_id": "p_fee",
                    "name": "Big",
                    "timestamp": START,
                    "amount": "999999999999.99",
                },
            ],
        )
    )
    n = 999_999_999_999
    p.ingest(
        [
            {
                "transaction_id": f"tiny{i}",
                "customer_id": "c1",
                "event_type": "use",
                "timestamp": "2025-01-10T00:00:00Z",
                "properties": {"n": str(n)},
            }
            for i in range(10)
        ]  # 9,999,999,999,990 units
        + [
            {
                "transaction_id": f"gb{i}",
                "customer_id": "c1",
                "event_type": "egress",
                "timestamp": "2025-01-10T00:00:00Z",
                "properties": {"b": "100000000000"},
            }
            for i in range(10)
        ]
        + [
            {
                "transaction_id": "few",
                "customer_id": "c1",
                "event_type": "few",
                "timestamp": "2025-01-10T00:00:00Z",
                "properties": {"n": 1000},
            }
        ]
    )
    p.build(as_of=AS_OF)
    lines = {
        r["product_id"]: (r["quantity"], r["unit_price"], r["amount"])
        for r in p.lines("k1")
        if r["line_type"] == "usage"
    }
    units = D(10 * n)
    assert lines["p_ten_places"] == (units, D("0.0000000004"), D("4000.00"))  # exact 3999.999999996
    # 1.5e-9 x 999.9999999999 = 0.0000014999999999998500 -> 0.0000015000 (D16: 10 places, half-up)
    assert lines["p_exponent"] == (units, D("0.0000015000"), D("15000000.00"))
    assert lines["p_trailing"] == (units, D("0.25"), D("2499999999997.50"))
    # prices and tier sizes just below their bounds: 1,000 x 999,999,999.9999999999 = 999,999,999,999.9999999
    assert lines["p_at_limit"] == (D(1000), None, D("1000000000000.00"))
    assert lines["p_per_gb"] == (D(1000), D("0.02"), D("20.00"))  # 10^12 bytes = 1,000 GB
    scheduled = [r["amount"] for r in p.lines("k1") if r["line_type"] == "scheduled"]
    assert scheduled == [D("999999999999.99")]
