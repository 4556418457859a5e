"""Price models, quantity conversion and rounding, and price overrides: one hand-computed scenario
per rule, all on one contract (one product and metric per rule) and one build."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import BillingTestProject, D

AS_OF = "2025-03-05T00:00:00Z"
TIERS = [{"size": 100, "price": "0.10"}, {"size": 900, "price": "0.05"}, {"price": "0.01"}]

# product id -> (rate fields, product fields)
PRODUCTS = {
    "flat_mult": ({"rate_type": "FLAT", "price": "2.00"}, {}),
    "tiered": ({"rate_type": "TIERED", "tiers": TIERS}, {}),
    "volume": ({"rate_type": "VOLUME", "tiers": TIERS}, {}),
    "package": ({"rate_type": "PACKAGE", "price": "5", "package_size": "100"}, {}),
    "divide_up": (
        {"rate_type": "FLAT", "price": "0.01"},
        {
            "quantity_conversion_operation": "DIVIDE",
            "quantity_conversion_factor": "1024",
            "quantity_rounding_decimal_places": "0",
            "quantity_rounding_method": "ROUND_UP",
        },
    ),
    "multiply_down": (
        {"rate_type": "FLAT", "price": "1"},
        {
            "quantity_conversion_operation": "MULTIPLY",
            "quantity_conversion_factor": "0.001",
            "quantity_rounding_decimal_places": "2",
            "quantity_rounding_method": "ROUND_DOWN",
        },
    ),
    "divide_half_up": (
        {"rate_type": "FLAT", "price": "1"},
        {
            "quantity_conversion_operation": "DIVIDE",
            "quantity_conversion_factor": "3",
            "quantity_rounding_decimal_places": "1",
            "quantity_rounding_method": "ROUND_HALF_UP",
        },
    ),
    "overwrite": ({"rate_type": "FLAT", "price": "1.00"}, {}),
    "overwrite_tiered": ({"rate_type": "FLAT", "price": "1.00"}, {}),
    "mult_from_15th": ({"rate_type": "FLAT", "price": "1.00"}, {}),
    # exact decimals (D59): prices and factors of 7 to 10 places, which Spark rounded to 6
    "per_token": ({"rate_type": "FLAT", "price": "0.0000025"}, {}),
    "multiply_tiny": (
        {"rate_type": "FLAT", "price": "10"},
        {"quantity_conversion_operation": "MULTIPLY", "quantity_conversion_factor": "0.0000001"},
    ),
    "round_up_9": (
        {"rate_type": "FLAT", "price": "1"},
        {
            "quantity_conversion_operation": "MULTIPLY",
            "quantity_conversion_factor": "0.0000001",
            "quantity_rounding_decimal_places": "9",
            "quantity_rounding_method": "ROUND_UP",
        },
    ),
    "divide_exact": (
        {"rate_type": "FLAT", "price": "1"},
        {"quantity_conversion_operation": "DIVIDE", "quantity_conversion_factor": "3"},
    ),
    "third_mult": ({"rate_type": "FLAT", "price": "1.2345678901"}, {}),
    "package_fine": ({"rate_type": "PACKAGE", "price": "1.2500000001", "package_size": "3"}, {}),
    "volume_fine": (
        {"rate_type": "VOLUME", "tiers": [{"size": 10, "price": "0.0000000123"}, {"price": "0.0000000077"}]},
        {},
    ),
    "tiered_fine": (
        {"rate_type": "TIERED", "tiers": [{"size": "1.0000000001", "price": "0.5"}, {"price": "900000000"}]},
        {},
    ),
}

OVERRIDES = [
    # the lowest multiplier applies: 2.00 x 0.8 = 1.60
    {"override_id": "o_m09", "product_id": "flat_mult", "type": "MULTIPLIER", "multiplier": "0.9"},
    {"override_id": "o_m08", "product_id": "flat_mult", "type": "MULTIPLIER", "multiplier": "0.8"},
    # the OVERWRITE with the lowest priority number wins, and beats the multiplier
    {
        "override_id": "o_ow_tiers",
        "product_id": "overwrite",
        "type": "OVERWRITE",
        "rate_type": "TIERED",
        "tiers": [{"size": 10, "price": 1}, {"price": "0.5"}],
        "priority": "2",
    },
    {
        "override_id": "o_ow_flat",
        "product_id": "overwrite",
        "type": "OVERWRITE",
        "rate_type": "FLAT",
        "price": "0.30",
        "priority": "1",
    },
    {"override_id": "o_ow_mult", "product_id": "overwrite", "type": "MULTIPLIER", "multiplier": "0.5"},
    {
        "override_id": "o_ow_t",
        "product_id": "overwrite_tiered",
        "type": "OVERWRITE",
        "rate_type": "TIERED",
        "tiers": [{"size": 10, "price": 1}, {"price": "0.5"}],
    },
    # a dated multiplier starting mid-period splits the period into two lines
    {
        "override_id": "o_m15",
        "product_id": "mult_from_15th",
        "type": "MULTIPLIER",
        "multiplier": "0.5",
        "starting_at": "2025-01-15T00:00:00Z",
    },
    {"override_id": "o_third", "product_id": "third_mult", "type": "MULTIPLIER", "multiplier": "0.3333333333"},
]

# (product, day, units)
USAGE = [
    ("flat_mult", "2025-01-10", 10),
    ("tiered", "2025-01-10", 1000),
    ("tiered", "2025-01-20", 500),
    ("tiered", "2025-02-10", 50),
    ("volume", "2025-01-10", 1500),
    ("volume", "2025-02-10", 100),
    ("package", "2025-01-10", 250),
    ("package", "2025-02-10", 300),
    ("divide_up", "2025-01-10", 5000),
    ("multiply_down", "2025-01-10", "1234.5"),
    ("divide_half_up", "2025-01-10", 10),
    ("overwrite", "2025-01-10", 10),
    ("overwrite_tiered", "2025-01-10", 15),
    ("mult_from_15th", "2025-01-10", 10),
    ("mult_from_15th", "2025-01-20", 10),
    ("per_token", "2025-01-10", "1233999.9998"),
    ("multiply_tiny", "2025-01-10", 1234567),
    ("round_up_9", "2025-01-10", "10000000.014"),
    ("divide_exact", "2025-01-10", "3005999.999999997"),
    ("third_mult", "2025-01-10", 1000),
    ("package_fine", "2025-01-10", "3.0000001"),
    ("volume_fine", "2025-01-10", "649350.6"),
    ("tiered_fine", "2025-01-10", 3),
]


def prepare(p: BillingTestProject) -> str:
    """The price catalog and usage; returns the as-of instant to build at.
    (tests/test_spark_parity.py builds them on Spark too.)"""
    p.seeds(
        customers=[{"customer_id": "c1", "name": "One"}],
        products=[
            {"product_id": pid, "name": pid, "type": "USAGE", "billable_metric": f"m_{pid}", **product}
            for pid, (_, product) in PRODUCTS.items()
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {"rate_card_id": "rc", "product_id": pid, "starting_at": "2025-01-01T00:00:00Z", **rate}
            for pid, (rate, _) in PRODUCTS.items()
        ],
        contracts=[
            {
                "contract_id": "k1",
                "customer_id": "c1",
                "rate_card_id": "rc",
                "name": "K",
                "starting_at": "2025-01-01T00:00:00Z",
            }
        ],
        contract_overrides=[{"contract_id": "k1", "starting_at": "2025-01-01T00:00:00Z", **o} for o in OVERRIDES],
    )
    p.metrics(
        "billable_metrics:\n"
        + "".join(
            f"  - {{name: m_{pid}, event_type: use_{pid}, aggregation: sum, property: units}}\n" for pid in PRODUCTS
        )
    )
    p.ingest(
        [
            {
                "transaction_id": f"t{i}",
                "customer_id": "c1",
                "event_type": f"use_{pid}",
                "timestamp": f"{day}T12:00:00Z",
                "properties": {"units": units},
            }
            for i, (pid, day, units) in enumerate(USAGE)
        ]
    )
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("prices"))
    p.build(as_of=prepare(p))
    return p


@pytest.fixture(scope="module")
def lines(project):
    """{(product, segment start date): (quantity, unit_price, amount)}."""
    return {
        (r["product_id"], r["starting_at"].date()): (r["quantity"], r["unit_price"], r["amount"])
        for r in project.lines()
    }


JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


def test_lowest_multiplier_applies(lines):
    assert lines[("flat_mult", JAN)] == (D(10), D("1.60"), D("16.00"))  # 10 x 2.00 x 0.8


def test_tiered_is_graduated_and_restarts_each_period(lines):
    # Jan 1500: 100 x 0.10 + 900 x 0.05 + 500 x 0.01 = 10 + 45 + 5 = 60.00; unit price is not single
    assert lines[("tiered", JAN)] == (D(1500), None, D("60.00"))
    # Feb starts again at tier 1: 50 x 0.10 = 5.00
    assert lines[("tiered", FEB)] == (D(50), None, D("5.00"))


def test_volume_prices_every_unit_at_the_tier_reached(lines):
    assert lines[("volume", JAN)] == (D(1500), D("0.01"), D("15.00"))  # 1500 reaches tier 3
    assert lines[("volume", FEB)] == (D(100), D("0.10"), D("10.00"))  # exactly 100 is still tier 1


def test_package_rounds_packages_up(lines):
    assert lines[("package", JAN)] == (D(250), D(5), D("15.00"))  # ceil(250 / 100) = 3 packages x 5
    assert lines[("package", FEB)] == (D(300), D(5), D("15.00"))  # exactly 3 packages


def test_conversion_then_rounding(lines):
    # 5000 / 1024 = 4.8828125 -> ROUND_UP to 0 places = 5 -> x 0.01 = 0.05
    assert lines[("divide_up", JAN)] == (D(5), D("0.01"), D("0.05"))
    # 1234.5 x 0.001 = 1.2345 -> ROUND_DOWN to 2 places = 1.23 -> x 1 = 1.23
    assert lines[("multiply_down", JAN)] == (D("1.23"), D(1), D("1.23"))
    # 10 / 3 = 3.333... -> ROUND_HALF_UP to 1 place = 3.3 -> x 1 = 3.30
    assert lines[("divide_half_up", JAN)] == (D("3.3"), D(1), D("3.30"))


def test_overwrite_lowest_priority_wins_and_beats_multipliers(lines):
    assert lines[("overwrite", JAN)] == (D(10), D("0.30"), D("3.00"))  # priority 1 FLAT 0.30, no x 0.5
    # OVERWRITE to TIERED: 10 x 1 + 5 x 0.5 = 12.50
    assert lines[("overwrite_tiered", JAN)] == (D(15), None, D("12.50"))


def test_override_boundary_splits_the_period(lines):
    assert lines[("mult_from_15th", JAN)] == (D(10), D("1.00"), D("10.00"))
    assert lines[("mult_from_15th", date(2025, 1, 15))] == (D(10), D("0.50"), D("5.00"))


def test_products_and_quotients_are_exact(lines):
    """Prices, factors and multipliers of 7 to 10 places are carried exactly on every engine (D59);
    Spark used to round each product and quotient to 6 places."""
    # 1,233,999.9998 x 0.0000025 = 3.0849999995 -> 3.08 (at 6 places: 3.085000 -> 3.09)
    assert lines[("per_token", JAN)] == (D("1233999.9998"), D("0.0000025"), D("3.08"))
    # 1,234,567 x 0.0000001 = 0.1234567 -> x 10 = 1.234567 -> 1.23
    assert lines[("multiply_tiny", JAN)] == (D("0.1234567"), D(10), D("1.23"))
    # 10,000,000.014 x 0.0000001 = 1.0000000014 -> ROUND_UP to 9 places = 1.000000002
    assert lines[("round_up_9", JAN)] == (D("1.000000002"), D(1), D("1.00"))
    # 3,005,999.999999997 / 3 = 1,001,999.999999999 (at 6 places: 1,002,000.000000)
    assert lines[("divide_exact", JAN)] == (D("1001999.999999999"), D(1), D("1002000.00"))
    # 1.2345678901 x 0.3333333333 = 0.41152262999218107033 -> 0.4115226300; x 1000 = 411.52263 -> 411.52
    assert lines[("third_mult", JAN)] == (D(1000), D("0.4115226300"), D("411.52"))
    # 3.0000001 / 3 is just above 1: 2 packages x 1.2500000001 = 2.5000000002 -> 2.50
    assert lines[("package_fine", JAN)] == (D("3.0000001"), D("1.2500000001"), D("2.50"))
    # 649,350.6 x 0.0000000077 = 0.00499999962 -> 0.00 (at 6 places: 0.005000 -> 0.01)
    assert lines[("volume_fine", JAN)] == (D("649350.6"), D("0.0000000077"), D("0.00"))
    # 1.0000000001 x 0.5 + 1.9999999999 x 900,000,000 = 1,800,000,000.41000000005 -> 1,800,000,000.41
    assert lines[("tiered_fine", JAN)] == (D(3), None, D("1800000000.41"))


def test_invoice_totals(project):
    # Jan: 16.00 + 60.00 + 15.00 + 15.00 + 0.05 + 1.23 + 3.30 + 3.00 + 12.50 + 10.00 + 5.00 = 141.08,
    #      + the exact decimals: 3.08 + 1.23 + 1.00 + 1,002,000.00 + 411.52 + 2.50 + 0.00
    #      + 1,800,000,000.41 = 1,801,002,560.82
    # Feb: 5.00 + 10.00 + 15.00 = 30.00
    totals = {r["period_starting_at"].date(): r["total"] for r in project.invoices()}
    assert totals[JAN] == D("1801002560.82")
    assert totals[FEB] == D("30.00")


def test_malformed_prices_fail_the_build(make_project):
    p = (
        make_project()
        .seeds(
            customers=[{"customer_id": "c1", "name": "One"}],
            products=[
                {"product_id": "p1", "name": "P", "type": "USAGE", "billable_metric": "m"},
                {
                    "product_id": "p2",
                    "name": "P2",
                    "type": "USAGE",
                    "billable_metric": "m",
                    "quantity_conversion_operation": "DIVIDE",
                    "quantity_conversion_factor": "0",
                },
            ],
            rate_cards=[{"rate_card_id": "rc", "name": "List"}],
            rate_card_rates=[
                {
                    "rate_card_id": "rc",
                    "product_id": "p1",
                    "starting_at": "2025-01-01",
                    "rate_type": "TIERED",
                    "tiers": [{"size": 10, "price": 1}, {"size": 5, "price": 1}],
                },
                {
                    "rate_card_id": "rc",
                    "product_id": "p2",
                    "starting_at": "2025-01-01",
                    "rate_type": "PACKAGE",
                    "price": "1",
                },
            ],
            contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"}],
            contract_overrides=[
                {
                    "override_id": "o1",
                    "contract_id": "k1",
                    "starting_at": "2025-01-01",
                    "product_id": "p1",
                    "type": "MULTIPLIER",
                }
            ],
        )
        .metrics("billable_metrics:\n  - {name: m, event_type: e, aggregation: count}\n")
    )
    result = p.build(as_of=AS_OF, expect_success=False)
    text = "\n".join(result.problems)
    for expected in [
        "seed=rate_card_rates.csv, row_key=rc/p1/2025-01-01 00:00:00.000000, problem=tier 2 is the last tier and must have no size",
        "seed=rate_card_rates.csv, row_key=rc/p2/2025-01-01, problem=a PACKAGE rate needs a price and a package_size above 0",
        "seed=products.csv, row_key=p2, problem=quantity_conversion_factor must be above 0 when an operation is given",
        "seed=contract_overrides.csv, row_key=o1, problem=a MULTIPLIER override needs a multiplier",
    ]:
        assert expected in text, text
