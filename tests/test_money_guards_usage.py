"""Usage-side money guards (issue #16; DECISIONLOG D56-D58): the per-event value bound and its
rejection reason, negative usage (priced 0.00, visible, invoice held), and amounts that exact
arithmetic cannot carry (a usage problem naming the customer, contract and product; the invoice
held; every other customer billed right). One catalog, one contract per case, one build."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import BillingTestProject, D

AS_OF = "2025-02-05T00:00:00Z"
JAN = datetime(2025, 1, 1)
TIERS = [{"size": 100, "price": "1.00"}, {"price": "0.50"}]

# product id -> rate fields, product fields
PRODUCTS = {
    "flat": ({"rate_type": "FLAT", "price": "0.09"}, {}),
    "tiered": ({"rate_type": "TIERED", "tiers": TIERS}, {}),
    "volume": ({"rate_type": "VOLUME", "tiers": TIERS}, {}),
    "package": ({"rate_type": "PACKAGE", "price": "5", "package_size": "100"}, {}),
    "big": ({"rate_type": "FLAT", "price": "1000000"}, {}),
    "conv": (
        {"rate_type": "FLAT", "price": "0.000001"},
        {"quantity_conversion_operation": "MULTIPLY", "quantity_conversion_factor": "1000000000"},
    ),
    "egress": (
        {"rate_type": "FLAT", "price": "0.05"},
        {"quantity_conversion_operation": "DIVIDE", "quantity_conversion_factor": "1000000000"},
    ),
    "fine": ({"rate_type": "FLAT", "price": "1"}, {}),
}
CUSTOMERS = ["c_ok", "c_neg", "c_tier", "c_big", "c_conv", "c_egress"]

# (id, customer, product, value)
USAGE = [
    # an ordinary customer: a correction that nets positive (120 - 20), tiers, 11 decimals
    ("ok_1", "c_ok", "flat", 120),
    ("ok_2", "c_ok", "flat", -20),
    ("ok_3", "c_ok", "tiered", 1500),
    ("ok_4", "c_ok", "fine", "2.00000000005"),
    # negative period quantities, one per price model
    ("neg_flat", "c_neg", "flat", -1000),
    ("neg_package", "c_neg", "package", -250),
    ("neg_volume", "c_neg", "volume", -50),
    # 300.00 of TIERED usage, then one bogus negative event
    ("tier_1", "c_tier", "tiered", 300),
    ("tier_2", "c_tier", "tiered", 200),
    ("tier_bogus", "c_tier", "tiered", -999999999999),
    # quantity x price beyond 10^17 (2e12 x 1,000,000); quantity x factor beyond it (2e12 x 1e9)
    ("big_1", "c_big", "big", 999999999999),
    ("big_2", "c_big", "big", 999999999999),
    ("conv_1", "c_conv", "conv", 999999999999),
    ("conv_2", "c_conv", "conv", 999999999999),
    # 2 TB of egress priced per GB; the per-event bound is 10^15
    ("egress_1", "c_egress", "egress", 2000000000000),
    ("egress_below_bound", "c_egress", "egress", "999999999999999"),
    ("egress_at_bound", "c_egress", "egress", "1000000000000000"),
    ("egress_1e16", "c_egress", "egress", 1e16),
    ("egress_beyond_decimal", "c_egress", "egress", "123456789012345678901234567890123"),
    ("egress_text", "c_egress", "egress", "lots"),
]


def prepare(p: BillingTestProject) -> str:
    p.seeds(
        customers=[{"customer_id": c, "name": c} for c in CUSTOMERS],
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
            {"contract_id": f"k_{c[2:]}", "customer_id": c, "rate_card_id": "rc", "starting_at": "2025-01-01T00:00:00Z"}
            for c in CUSTOMERS
        ],
    )
    p.metrics(
        "billable_metrics:\n"
        + "".join(f"  - {{name: m_{pid}, event_type: use_{pid}, aggregation: sum, property: n}}\n" for pid in PRODUCTS)
    )
    p.ingest(
        [
            {
                "transaction_id": tid,
                "customer_id": customer,
                "event_type": f"use_{pid}",
                "timestamp": f"2025-01-{10 + i % 15:02d}T12:00:00Z",
                "properties": {"n": value},
            }
            for i, (tid, customer, pid, value) in enumerate(USAGE)
        ],
        loaded_at="2025-01-31T00:00:00Z",
    )
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("money_usage"))
    p.result = p.build(as_of=prepare(p))  # fails on a DECIMAL overflow without the guards
    return p


def jan_invoice(project, contract_id):
    [invoice] = [r for r in project.invoices(contract_id) if r["period_starting_at"] == JAN]
    return invoice


def jan_lines(project, contract_id):
    return {r["product_id"]: r for r in project.lines(contract_id) if r["starting_at"] == JAN}


def problems(project):
    return {
        (r["customer_id"], r["contract_id"], r["product_id"]): r
        for r in project.query("select * from main.int_usage_problems")
    }


def test_other_customers_bill_right_and_finalize(project):
    ok = jan_lines(project, "k_ok")
    assert ok["flat"]["quantity"] == D(100) and ok["flat"]["amount"] == D("9.00")  # 120 - 20 corrected
    assert ok["tiered"]["amount"] == D("800.00")  # 100 x 1.00 + 1400 x 0.50
    invoice = jan_invoice(project, "k_ok")
    assert (invoice["status"], invoice["total"]) == ("FINALIZED", D("811.00"))


def test_a_value_with_more_than_10_decimals_rounds_half_up(project):
    assert jan_lines(project, "k_ok")["fine"]["quantity"] == D("2.0000000001")


def test_values_up_to_the_bound_are_metered_and_priced(project):
    outcomes = project.outcomes()
    assert outcomes["egress_1"] == ("metered", None)  # 2,000,000,000,000 bytes: was non_numeric_value
    assert outcomes["egress_below_bound"] == ("metered", None)
    # (2e12 + 999999999999999) bytes / 1e9 = 1,001,999.999999999 GB x 0.05 = 50,100.00
    line = jan_lines(project, "k_egress")["egress"]
    assert (line["quantity"], line["amount"]) == (D("1001999.999999999"), D("50100.00"))
    assert jan_invoice(project, "k_egress")["status"] == "FINALIZED"


def test_values_beyond_the_bound_are_out_of_range_not_non_numeric(project):
    outcomes = project.outcomes()
    for tid in ("egress_at_bound", "egress_1e16", "egress_beyond_decimal"):
        assert outcomes[tid] == ("rejected", "value_out_of_range"), tid
    assert outcomes["egress_text"] == ("rejected", "non_numeric_value")
    [detail] = project.query("select reason_detail from main.fct_event_outcomes where transaction_id = 'egress_1e16'")
    assert "10^15" in detail["reason_detail"]


def test_a_negative_period_quantity_is_priced_zero_visible_and_held(project):
    lines = jan_lines(project, "k_neg")
    assert {pid: (r["quantity"], r["amount"]) for pid, r in lines.items()} == {
        "flat": (D(-1000), D("0.00")),
        "package": (D(-250), D("0.00")),
        "volume": (D(-50), D("0.00")),
    }
    invoice = jan_invoice(project, "k_neg")
    assert (invoice["status"], invoice["total"]) == ("DRAFT", D("0.00"))  # was FINALIZED at -90.00
    found = problems(project)
    for pid in ("flat", "package", "volume"):
        row = found[("c_neg", "k_neg", pid)]
        assert row["problem"] == "negative_quantity" and row["period_starting_at"] == JAN


def test_a_negative_event_does_not_silently_erase_tiered_charges(project):
    row = problems(project)[("c_tier", "k_tier", "tiered")]
    assert (row["problem"], row["metered_quantity"]) == ("negative_quantity", D(500 - 999999999999))
    assert jan_invoice(project, "k_tier")["status"] == "DRAFT"  # not finalized at 0.00


def test_an_amount_beyond_exact_arithmetic_names_the_line_and_holds_its_invoice(project):
    found = problems(project)
    assert found[("c_big", "k_big", "big")]["problem"] == "amount_out_of_range"
    assert found[("c_conv", "k_conv", "conv")]["problem"] == "quantity_out_of_range"
    for contract, product in (("k_big", "big"), ("k_conv", "conv")):
        assert product not in jan_lines(project, contract)  # no amount that is not exact
        assert jan_invoice(project, contract)["status"] == "DRAFT"
    assert len(found) == 6, found  # 3 negative lines, the tiered one, the two overflows


def test_usage_problems_are_a_build_warning(project):
    assert project.result.counts.get("warn", 0) >= 1, project.result.counts


def test_late_usage_on_a_final_period_with_a_problem_waits(project, tmp_path):
    """A late negative event that makes a final period negative: no adjustment erases what was
    billed; the problem names the final period until corrected. (On a copy of the module's build:
    k_ok's January is final, its flat line 100 x 0.09 = 9.00.)"""
    p = project.copy(tmp_path / "late")
    assert jan_lines(p, "k_ok")["flat"]["amount"] == D("9.00")
    event = {"customer_id": "c_ok", "event_type": "use_flat", "timestamp": "2025-01-10T00:00:00Z"}
    p.ingest([{**event, "transaction_id": "late_1", "properties": {"n": -5000}}], loaded_at="2025-02-06T00:00:00Z")
    p.build(as_of="2025-02-07T00:00:00Z")
    assert not [r for r in p.lines("k_ok") if r["line_type"] == "late_usage_adjustment"]
    k_ok_problems = (
        "select period_starting_at, product_id, problem from main.int_usage_problems where contract_id = 'k_ok'"
    )
    assert [tuple(r.values()) for r in p.query(k_ok_problems)] == [(JAN, "flat", "negative_quantity")]
    # corrected: the period is positive again (100 - 5000 + 4950 = 50) and the late adjustment is billed
    p.ingest([{**event, "transaction_id": "late_2", "properties": {"n": 4950}}], loaded_at="2025-02-08T00:00:00Z")
    p.build(as_of="2025-02-09T00:00:00Z")
    [adjustment] = [r for r in p.lines("k_ok") if r["line_type"] == "late_usage_adjustment"]
    assert adjustment["amount"] == D("-4.50")  # 50 x 0.09 - 9.00
    assert p.query(k_ok_problems) == []
