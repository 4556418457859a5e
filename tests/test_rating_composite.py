"""PERCENTAGE pricing of COMPOSITE products: a fraction of the amounts of the products they name,
on the same USAGE invoice. Amounts computed by hand."""

from __future__ import annotations

from datetime import datetime

from conftest import D

AS_OF = "2025-02-10T00:00:00Z"


def prepare(p) -> str:
    """Composite products: a catalog and usage; returns the as-of instant to build at.
    (tests/test_spark_parity.py builds it on Spark too.)"""
    p.seeds(
        customers=[{"customer_id": "c1", "name": "One"}],
        products=[
            {"product_id": "api", "name": "API", "type": "USAGE", "billable_metric": "calls", "tags": ["core"]},
            {"product_id": "storage", "name": "Storage", "type": "USAGE", "billable_metric": "gb", "tags": ["core"]},
            {"product_id": "seats", "name": "Seats", "type": "SUBSCRIPTION"},
            {
                "product_id": "support",
                "name": "Support",
                "type": "COMPOSITE",
                "composite_tags": ["core"],
                "composite_product_ids": ["seats"],
            },
            {"product_id": "premium", "name": "Premium support", "type": "COMPOSITE", "composite_product_ids": ["api"]},
            {"product_id": "audit", "name": "Audit", "type": "COMPOSITE", "composite_product_ids": ["api"]},
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {
                "rate_card_id": "rc",
                "product_id": "api",
                "starting_at": "2025-01-01",
                "rate_type": "FLAT",
                "price": "1.00",
            },
            {
                "rate_card_id": "rc",
                "product_id": "storage",
                "starting_at": "2025-01-01",
                "rate_type": "FLAT",
                "price": "2.00",
            },
            {
                "rate_card_id": "rc",
                "product_id": "seats",
                "starting_at": "2025-01-01",
                "rate_type": "SUBSCRIPTION",
                "price": "10",
                "billing_frequency": "MONTHLY",
            },
            {
                "rate_card_id": "rc",
                "product_id": "support",
                "starting_at": "2025-01-01",
                "rate_type": "PERCENTAGE",
                "price": "0.10",
            },
            {
                "rate_card_id": "rc",
                "product_id": "premium",
                "starting_at": "2025-01-01",
                "rate_type": "PERCENTAGE",
                "price": "0.25",
            },
            {
                "rate_card_id": "rc",
                "product_id": "audit",
                "starting_at": "2025-01-01",
                "rate_type": "PERCENTAGE",
                "price": "0.0004999999",
            },
        ],
        contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"}],
        contract_overrides=[
            {
                "override_id": "o1",
                "contract_id": "k1",
                "starting_at": "2025-01-01",
                "product_id": "premium",
                "type": "MULTIPLIER",
                "multiplier": "0.5",
            }
        ],
        contract_subscriptions=[
            {
                "subscription_id": "s1",
                "contract_id": "k1",
                "product_id": "seats",
                "quantity": "2",
                "starting_at": "2025-01-01",
                "collection_schedule": "ARREARS",
            }
        ],
    ).metrics(
        "billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n"
        "  - {name: gb, event_type: store, aggregation: sum, property: gb}\n"
    )
    p.ingest(
        [
            {
                "transaction_id": f"c{i}",
                "customer_id": "c1",
                "event_type": "call",
                "timestamp": "2025-01-05T00:00:00Z",
                "properties": {},
            }
            for i in range(10)
        ]
        + [
            {
                "transaction_id": "s1",
                "customer_id": "c1",
                "event_type": "store",
                "timestamp": "2025-01-06T00:00:00Z",
                "properties": {"gb": 3},
            }
        ]
    )
    return AS_OF


def test_composite_percentage_of_component_amounts(make_project):
    p = make_project()
    p.build(as_of=prepare(p))
    composite = {
        (r["product_id"], r["starting_at"]): (r["quantity"], r["unit_price"], r["amount"])
        for r in p.lines()
        if r["line_type"] == "composite"
    }
    # Jan: support = 0.10 x (api 10.00 + storage 6.00 + seats 20.00) = 3.60;
    #      premium = 0.25 x 0.5 (multiplier) x api 10.00 = 1.25
    #      audit = 0.0004999999 x api 10.00 = 0.004999999 -> 0.00 (exactly, D59: not 0.005000 -> 0.01)
    # Feb: support = 0.10 x seats 20.00 = 2.00; premium and audit have no component line, so no line
    assert composite == {
        ("support", datetime(2025, 1, 1)): (D("36.00"), D("0.10"), D("3.60")),
        ("premium", datetime(2025, 1, 1)): (D("10.00"), D("0.125"), D("1.25")),
        ("audit", datetime(2025, 1, 1)): (D("10.00"), D("0.0004999999"), D("0.00")),
        ("support", datetime(2025, 2, 1)): (D("20.00"), D("0.10"), D("2.00")),
    }
    # Jan: 10.00 + 6.00 + 20.00 + 3.60 + 1.25 = 40.85; Feb: 20.00 + 2.00 = 22.00
    assert {r["period_starting_at"]: r["total"] for r in p.invoices()} == {
        datetime(2025, 1, 1): D("40.85"),
        datetime(2025, 2, 1): D("22.00"),
    }
