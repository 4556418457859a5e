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


def test_invoice_totals(project):
    # Jan: 16.00 + 60.00 + 15.00 + 15.00 + 0.05 + 1.23 + 3.30 + 3.00 + 12.50 + 10.00 + 5.00 = 141.08
    # Feb: 5.00 + 10.00 + 15.00 = 30.00
    totals = {r["period_starting_at"].date(): r["total"] for r in project.invoices()}
    assert totals[JAN] == D("141.08")
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
