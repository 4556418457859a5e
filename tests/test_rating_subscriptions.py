"""SUBSCRIPTION pricing: ADVANCE fees on SCHEDULED invoices, ARREARS lines on USAGE invoices,
proration by days, service periods aligned like billing periods. Amounts computed by hand."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from conftest import BillingTestProject, D

from billing_cli.documents import load_invoice, render_html

AS_OF = "2025-03-10T00:00:00Z"


def sub(subscription_id, contract_id, product_id, quantity, starting_at, schedule, prorated, ending_before=None):
    return {
        "subscription_id": subscription_id,
        "contract_id": contract_id,
        "product_id": product_id,
        "quantity": quantity,
        "starting_at": starting_at,
        "ending_before": ending_before,
        "collection_schedule": schedule,
        "is_prorated": prorated,
    }


def override(override_id, contract_id, product_id, starting_at, **kw):
    return {
        "override_id": override_id,
        "contract_id": contract_id,
        "product_id": product_id,
        "starting_at": starting_at,
        **kw,
    }


# Overrides of SUBSCRIPTION products (semantics 7), dated like the rate: the ones in effect at a
# service period's start decide its price and entitlement.
OVERRIDES = [
    # k3 seats (ADVANCE): the lowest MULTIPLIER of 0.5 and 0.8, from Feb 1
    override("o_k3_half", "k3", "seats", "2025-02-01", type="MULTIPLIER", multiplier="0.5"),
    override("o_k3_80", "k3", "seats", "2025-02-01", type="MULTIPLIER", multiplier="0.8"),
    # k3 platform: not entitled from the start (an entitlement-only override), so never billed
    override("o_k3_platform_off", "k3", "platform", "2025-01-01", entitled="false"),
    # k4 seats (ARREARS): OVERWRITEs from Feb 15, mid service period: priority 1 (20) beats 2 (25)
    override("o_k4_20", "k4", "seats", "2025-02-15", type="OVERWRITE", price="20", priority="1"),
    override("o_k4_25", "k4", "seats", "2025-02-15", type="OVERWRITE", rate_type="FLAT", price="25", priority="2"),
]


def prepare(p: BillingTestProject) -> str:
    """The subscription catalog; returns the as-of instant to build at.
    (tests/test_spark_parity.py builds it on Spark too.)"""
    p.seeds(
        customers=[
            {"customer_id": c, "name": name}
            for c, name in (("c1", "One"), ("c2", "Two"), ("c3", "Three"), ("c4", "Four"), ("c5", "Five"))
        ],
        products=[
            {"product_id": "seats", "name": "Seats", "type": "SUBSCRIPTION"},
            {"product_id": "platform", "name": "Platform", "type": "SUBSCRIPTION"},
            {"product_id": "licence", "name": "Licence", "type": "SUBSCRIPTION"},
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {
                "rate_card_id": "rc",
                "product_id": "seats",
                "starting_at": "2024-01-01",
                "rate_type": "SUBSCRIPTION",
                "price": "10",
                "billing_frequency": "MONTHLY",
            },
            {
                "rate_card_id": "rc",
                "product_id": "platform",
                "starting_at": "2024-01-01",
                "rate_type": "SUBSCRIPTION",
                "price": "300",
                "billing_frequency": "QUARTERLY",
            },
            {
                "rate_card_id": "rc",
                "product_id": "licence",
                "starting_at": "2024-01-01",
                "rate_type": "SUBSCRIPTION",
                "price": "0.1234567891",
                "billing_frequency": "MONTHLY",
            },
        ],
        contracts=[
            {"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"},
            {
                "contract_id": "k2",
                "customer_id": "c2",
                "rate_card_id": "rc",
                "starting_at": "2025-01-15",
                "usage_statement_day": "CONTRACT_START",
            },
            {"contract_id": "k3", "customer_id": "c3", "rate_card_id": "rc", "starting_at": "2025-01-01"},
            {"contract_id": "k4", "customer_id": "c4", "rate_card_id": "rc", "starting_at": "2025-01-01"},
            {"contract_id": "k5", "customer_id": "c5", "rate_card_id": "rc", "starting_at": "2025-01-01"},
        ],
        contract_overrides=OVERRIDES,
        contract_subscriptions=[
            sub("s_arrears", "k1", "seats", "5", "2025-01-16", "ARREARS", True),
            sub("s_advance", "k1", "seats", "2", "2025-01-10", "ADVANCE", False),
            sub("s_quarterly", "k1", "platform", "1", "2025-02-01", "ADVANCE", True),
            sub("s_k2", "k2", "platform", "2", "2025-01-15", "ARREARS", False, ending_before="2025-03-01"),
            sub("s_k3_seats", "k3", "seats", "4", "2025-01-01", "ADVANCE", False),
            sub("s_k3_platform", "k3", "platform", "1", "2025-01-01", "ADVANCE", False),
            sub("s_k4_seats", "k4", "seats", "3", "2025-01-16", "ARREARS", True),
            sub("s_fine", "k5", "licence", "4034", "2025-01-16", "ARREARS", True),
        ],
    )
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("subscriptions"))
    p.build(as_of=prepare(p))
    return p


def totals(project, contract_id, invoice_type):
    return {
        (r["period_starting_at"] or r["issued_at"]): r["total"]
        for r in project.invoices(contract_id)
        if r["invoice_type"] == invoice_type
    }


def test_arrears_prorated_on_usage_invoices(project):
    # Jan: service [Jan 16, Feb 1) = 16 of 31 days: 5 x 10 x 0.5161290323 = 25.806... -> 25.81
    # Feb and Mar: full months, 5 x 10 = 50.00 (March's period has started, so its draft shows it)
    assert totals(project, "k1", "USAGE") == {
        datetime(2025, 1, 1): D("25.81"),
        datetime(2025, 2, 1): D("50.00"),
        datetime(2025, 3, 1): D("50.00"),
    }
    jan = [
        r for r in project.lines("k1") if r["line_type"] == "subscription" and r["starting_at"] == datetime(2025, 1, 16)
    ]
    assert [(r["quantity"], r["unit_price"], r["amount"], r["ending_before"]) for r in jan] == [
        (D(5), D(10), D("25.81"), datetime(2025, 2, 1))
    ]


def test_advance_fees_on_scheduled_invoices(project):
    # seats x2 ADVANCE, not prorated: 20.00 at Jan 10 (service from Jan 10), Feb 1 and Mar 1.
    # platform quarterly ADVANCE prorated from Feb 1: [Feb 1, Apr 1) is 59 of 90 days of Q1:
    # 300 x 0.6555555556 = 196.67, on the same Feb 1 SCHEDULED invoice: 20.00 + 196.67 = 216.67
    assert totals(project, "k1", "SCHEDULED") == {
        datetime(2025, 1, 10): D("20.00"),
        datetime(2025, 2, 1): D("216.67"),
        datetime(2025, 3, 1): D("20.00"),
    }
    assert all(r["status"] == "FINALIZED" for r in project.invoices("k1") if r["invoice_type"] == "SCHEDULED")


def test_the_invoice_document_shows_each_advance_fees_service_period(project):
    # the Feb 1 SCHEDULED invoice: seats for [Feb 1, Mar 1), the platform for [Feb 1, Apr 1); a
    # document shows them as inclusive dates beside the line type, as it does for usage lines
    [invoice] = [
        r for r in project.invoices("k1") if r["invoice_type"] == "SCHEDULED" and r["issued_at"] == datetime(2025, 2, 1)
    ]
    project.release()
    html = render_html(load_invoice(project.db_path, project.dir, invoice["invoice_id"]))
    subs = re.findall(r'<div class="line-sub">Subscription( &middot; [^<]*)?</div>', html)
    assert sorted(subs) == [" &middot; February 1 – February 28, 2025", " &middot; February 1 – March 31, 2025"]


def test_arrears_billed_in_the_period_where_service_ends(project):
    # k2 bills from the contract start (Jan 15): periods [Jan 15, Feb 15), [Feb 15, Mar 15).
    # The quarterly service [Jan 15, Apr 15) is cut by the subscription end at Mar 1, so it ends in
    # the second period; not prorated: 2 x 300 = 600.00
    assert totals(project, "k2", "USAGE") == {datetime(2025, 1, 15): D("0.00"), datetime(2025, 2, 15): D("600.00")}


def test_multiplier_overrides_of_advance_fees(project):
    # k3 seats x4 ADVANCE at 10: Jan 40.00; from Feb 1 the lowest multiplier 0.5: 4 x 5 = 20.00
    # (Feb, Mar). The platform subscription is not entitled (override), so it has no fee at all.
    assert totals(project, "k3", "SCHEDULED") == {
        datetime(2025, 1, 1): D("40.00"),
        datetime(2025, 2, 1): D("20.00"),
        datetime(2025, 3, 1): D("20.00"),
    }
    assert {r["product_id"] for r in project.lines("k3")} == {"seats"}
    feb = [r for r in project.lines("k3") if r["starting_at"] == datetime(2025, 2, 1)]
    assert [(r["quantity"], r["unit_price"], r["amount"]) for r in feb] == [(D(4), D(5), D("20.00"))]


def test_overwrite_overrides_of_arrears_fees_follow_the_service_start(project):
    # k4 seats x3 ARREARS prorated from Jan 16: Jan 16/31 x 3 x 10 = 15.48 (30 x 0.5161290323 =
    # 15.483870969). The OVERWRITE starts Feb 15, inside February's service period, which keeps the
    # rate of its start: 3 x 10 = 30.00; March's starts under it: 3 x 20 (priority 1 wins) = 60.00.
    assert totals(project, "k4", "USAGE") == {
        datetime(2025, 1, 1): D("15.48"),
        datetime(2025, 2, 1): D("30.00"),
        datetime(2025, 3, 1): D("60.00"),
    }
    mar = [r for r in project.lines("k4") if r["starting_at"] == datetime(2025, 3, 1)]
    assert [(r["quantity"], r["unit_price"], r["amount"]) for r in mar] == [(D(3), D(20), D("60.00"))]


def test_an_overwrite_of_a_subscription_needs_a_price(make_project):
    p = make_project()
    prepare(p)
    p.seeds(
        contract_overrides=[
            *OVERRIDES,
            override(
                "o_tiered", "k4", "seats", "2025-02-01", type="OVERWRITE", rate_type="TIERED", tiers=[{"price": "1"}]
            ),
        ]
    )
    result = p.build(as_of=AS_OF, expect_success=False)
    assert "row_key=o_tiered, problem=an OVERWRITE of SUBSCRIPTION product seats replaces its price" in "\n".join(
        result.problems
    )


def test_fee_with_a_ten_place_price_is_exact(project):
    # Jan: 4034 x 0.1234567891 = 498.0246872294, x 16/31 (0.5161290323) = 257.04499988... -> 257.04
    # (Spark used to round each product to 6 places: 257.05); Feb and Mar: 498.0246872294 -> 498.02
    assert totals(project, "k5", "USAGE") == {
        datetime(2025, 1, 1): D("257.04"),
        datetime(2025, 2, 1): D("498.02"),
        datetime(2025, 3, 1): D("498.02"),
    }
