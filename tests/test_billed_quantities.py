"""fct_billed_quantities: what was billed per contract, period, product / metric and group (issue 18).

A UNIQUE metric `users` (distinct `user` per period, grouped by `region`, shown as presentation
groups) priced FLAT at 2.00 a user; one MONTHLY contract from 2025-01-01. Two builds (module fixture).

  January, eu: Jan 1 u1 u2 u3, Jan 2 u1 u2, Jan 3 u2 u3, Jan 4 u1: daily uniques 3 + 2 + 2 + 1 = 8,
               the month's distinct users 3 (u1 u2 u3): billed 3 x 2.00 = 6.00.
  January, us: Jan 2 u7, Jan 5 u7 u8: daily 1 + 2 = 3, the month's 2: billed 4.00.
  February, eu: Feb 3 u1 u4: 2.
  Build 1 as of Feb 10 (January FINALIZED, February a DRAFT).
  Build 2 as of Feb 20: late January events loaded Feb 20: eu u5 (a new user: January eu is 4, the
  +1 is billed on February's draft as a late_usage_adjustment of 2.00) and us u8 again (no change:
  nothing billed). Folded: January eu quantity 4 = 3 invoiced + 1 late; February eu stays 2.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import BillingTestProject, D

METRICS = """billable_metrics:
  - {name: users, event_type: login, aggregation: unique, property: user, group_keys: [region]}
"""
JAN, FEB = datetime(2025, 1, 1), datetime(2025, 2, 1)
EU, US = '{"region":"eu"}', '{"region":"us"}'


def login(day: str, user: str, region: str, tag: str = "") -> dict:
    return {
        "transaction_id": f"{day}-{user}-{region}{tag}",
        "customer_id": "c1",
        "event_type": "login",
        "timestamp": f"{day}T09:00:00Z",
        "properties": {"user": user, "region": region},
    }


def billed(p: BillingTestProject) -> dict:
    return {
        (r["period_starting_at"], r["presentation_group_values"]): (
            r["quantity"],
            r["invoiced_quantity"],
            r["late_adjusted_quantity"],
        )
        for r in p.query("select * from main.fct_billed_quantities")
    }


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    p = BillingTestProject(tmp_path_factory.mktemp("billed_quantities"))
    p.metrics(METRICS)
    p.seeds(
        customers=[{"customer_id": "c1", "name": "One"}],
        products=[
            {
                "product_id": "seats",
                "name": "Active users",
                "type": "USAGE",
                "billable_metric": "users",
                "presentation_group_key": ["region"],
            }
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {
                "rate_card_id": "rc",
                "product_id": "seats",
                "starting_at": "2024-01-01",
                "rate_type": "FLAT",
                "price": "2",
            }
        ],
        contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"}],
    )
    january_eu = [("01", "u1"), ("01", "u2"), ("01", "u3"), ("02", "u1"), ("02", "u2"), ("03", "u2"), ("03", "u3")]
    p.ingest(
        [login(f"2025-01-{d}", u, "eu") for d, u in [*january_eu, ("04", "u1")]]
        + [login("2025-01-02", "u7", "us"), login("2025-01-05", "u7", "us"), login("2025-01-05", "u8", "us")]
        + [login("2025-02-03", "u1", "eu"), login("2025-02-03", "u4", "eu")],
        loaded_at="2025-02-10T00:00:00Z",
    )
    p.build(as_of="2025-02-10T00:00:00Z")
    first = {
        "billed": billed(p),
        "rows": p.query(
            "select * from main.fct_billed_quantities order by period_starting_at, presentation_group_values"
        ),
        "daily_eu_january": p.query(
            "select sum(quantity) as total from main.fct_usage_daily "
            "where group_values = ? and usage_date < date '2025-02-01'",
            [EU],
        )[0]["total"],
    }
    p.ingest(
        [login("2025-01-20", "u5", "eu"), login("2025-01-21", "u8", "us", tag="-again")],
        loaded_at="2025-02-20T00:00:00Z",
    )
    p.build(as_of="2025-02-20T00:00:00Z")
    second = {
        "billed": billed(p),
        "late_lines": [
            (r["presentation_group_values"], r["quantity"], r["amount"])
            for r in p.query("select * from main.fct_invoice_line_items where line_type = 'late_usage_adjustment'")
        ],
    }
    return first, second


def test_a_unique_metric_is_billed_per_period_not_summed_per_day(story):
    first, _ = story
    assert first["daily_eu_january"] == D(8)  # what summing fct_usage_daily would say
    assert first["billed"] == {
        (JAN, EU): (D(3), D(3), D(0)),
        (JAN, US): (D(2), D(2), D(0)),
        (FEB, EU): (D(2), D(2), D(0)),
    }


def test_rows_name_contract_period_product_metric_and_invoice(story):
    first, _ = story
    jan_eu = first["rows"][0]
    assert (
        jan_eu["contract_id"],
        jan_eu["customer_id"],
        jan_eu["invoice_status"],
        jan_eu["period_ending_before"],
        jan_eu["product_id"],
        jan_eu["product_name"],
        jan_eu["billable_metric"],
        jan_eu["aggregation"],
        jan_eu["starting_at"],
        jan_eu["pricing_group_values"],
    ) == ("k1", "c1", "FINALIZED", FEB, "seats", "Active users", "users", "unique", JAN, None)
    assert [r["invoice_status"] for r in first["rows"]] == ["FINALIZED", "FINALIZED", "DRAFT"]
    assert len({r["billed_quantity_id"] for r in first["rows"]}) == 3


def test_late_usage_is_folded_into_its_period(story):
    _, second = story
    # one new January user in eu: +1 billed on February's draft; u8 again changes nothing
    assert second["late_lines"] == [(EU, D(1), D("2.00"))]
    assert second["billed"] == {
        (JAN, EU): (D(4), D(3), D(1)),
        (JAN, US): (D(2), D(2), D(0)),
        (FEB, EU): (D(2), D(2), D(0)),
    }
