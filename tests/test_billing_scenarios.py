"""End-to-end billing scenarios: seeds + events in a temp DuckDB, one `dbt build`, invoices checked
against amounts computed by hand (each expected figure says how it was computed).

One catalog holds seven contracts, each a scenario, so that a single build covers them all:
  A  every aggregation (count/sum/max/unique/latest), alias, filters, a mid-period price change,
     dedup across loads, a $0 period that has started, recurring scheduled charge
  B  UTC offsets around a period boundary, the future-timestamp tolerance, a partial tag match
  C  entitlement-only overrides by tag and by product (a mid-period override boundary)
  D  a contract ending mid-month (clipped periods), one-time + repeating charges on one SCHEDULED invoice
  E  an upgrade: one contract ends, the next starts
  F  CONTRACT_START billing periods
  G  QUARTERLY periods
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import BillingTestProject, D

AS_OF = "2025-03-01T12:00:00Z"
LOAD_1 = "2025-03-01T10:00:00Z"
LOAD_2 = "2025-03-01T11:00:00Z"

METRICS = """
billable_metrics:
  - name: calls
    event_type: api_call
    aggregation: count
    filters:
      - {property: env, in: [prod]}
  - name: tokens
    event_type: completion
    aggregation: sum
    property: tokens
  - name: peak_seats
    event_type: seat_report
    aggregation: max
    property: seats
  - name: users
    event_type: login
    aggregation: unique
    property: user_id
  - name: storage
    event_type: storage_snapshot
    aggregation: latest
    property: gb
"""

PRODUCTS = [
    {"product_id": "p_calls", "name": "API calls", "type": "USAGE", "billable_metric": "calls"},
    {
        "product_id": "p_tokens",
        "name": "Tokens",
        "type": "USAGE",
        "billable_metric": "tokens",
        "tags": ["ai", "premium"],
    },
    {"product_id": "p_seats", "name": "Seats", "type": "USAGE", "billable_metric": "peak_seats"},
    {"product_id": "p_users", "name": "Active users", "type": "USAGE", "billable_metric": "users"},
    {"product_id": "p_storage", "name": "Storage", "type": "USAGE", "billable_metric": "storage"},
    {"product_id": "p_platform", "name": "Platform fee", "type": "FIXED"},
]


def rate(product_id, price, starting_at="2024-01-01T00:00:00Z", ending_before=None):
    return {
        "rate_card_id": "rc1",
        "product_id": product_id,
        "starting_at": starting_at,
        "ending_before": ending_before,
        "entitled": True,
        "rate_type": "FLAT",
        "price": price,
    }


RATES = [
    rate("p_calls", "0.01", ending_before="2025-02-15T00:00:00Z"),
    rate("p_calls", "0.02", starting_at="2025-02-15T00:00:00Z"),
    rate("p_tokens", "0.000002"),
    rate("p_seats", "5.00"),
    rate("p_users", "1.50"),
    rate("p_storage", "0.25"),
]


def contract(contract_id, customer_id, starting_at, ending_before=None, **kw):
    return {
        "contract_id": contract_id,
        "customer_id": customer_id,
        "rate_card_id": "rc1",
        "name": contract_id,
        "starting_at": starting_at,
        "ending_before": ending_before,
        **kw,
    }


CONTRACTS = [
    contract("con_a", "cus_a", "2025-01-01T00:00:00Z", net_payment_terms_days=30),
    contract("con_b", "cus_b", "2025-01-01T00:00:00Z"),
    contract("con_c", "cus_c", "2025-01-01T00:00:00Z"),
    contract("con_d", "cus_d", "2025-01-15T00:00:00Z", "2025-02-10T00:00:00Z"),
    contract("con_e1", "cus_e", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"),
    contract("con_e2", "cus_e", "2025-02-01T00:00:00Z"),
    contract("con_f", "cus_f", "2025-01-10T00:00:00Z", usage_statement_day="CONTRACT_START"),
    contract("con_g", "cus_g", "2024-11-15T00:00:00Z", usage_statement_frequency="QUARTERLY"),
]

OVERRIDES = [
    {
        "override_id": "ovr_c_premium",
        "contract_id": "con_c",
        "starting_at": "2025-01-01T00:00:00Z",
        "product_tags": ["premium"],
        "entitled": False,
    },
    {
        "override_id": "ovr_c_users",
        "contract_id": "con_c",
        "starting_at": "2025-01-15T00:00:00Z",
        "product_id": "p_users",
        "entitled": False,
    },
    # p_tokens is tagged [ai, premium]: it lacks "enterprise", so this override does not apply
    {
        "override_id": "ovr_b_partial",
        "contract_id": "con_b",
        "starting_at": "2025-01-01T00:00:00Z",
        "product_tags": ["ai", "enterprise"],
        "entitled": False,
    },
]

SCHEDULED = [
    {
        "scheduled_charge_id": "sch_a_platform",
        "contract_id": "con_a",
        "product_id": "p_platform",
        "name": "Platform fee",
        "timestamp": "2025-01-01T00:00:00Z",
        "amount": "10",
        "frequency": "MONTHLY",
    },
    {
        "scheduled_charge_id": "sch_d_monthly",
        "contract_id": "con_d",
        "product_id": "p_platform",
        "name": "Monthly platform",
        "timestamp": "2025-01-15T00:00:00Z",
        "amount": "25",
        "frequency": "MONTHLY",
    },
    {
        "scheduled_charge_id": "sch_d_setup",
        "contract_id": "con_d",
        "product_id": "p_platform",
        "name": "Setup",
        "timestamp": "2025-01-15T00:00:00Z",
        "amount": "100.01",
    },
]


def ev(txn, customer, event_type, timestamp, **properties):
    event = {"customer_id": customer, "event_type": event_type, "timestamp": timestamp, "properties": properties}
    if txn is not None:
        event["transaction_id"] = txn
    return event


def call(txn, customer, timestamp, env="prod"):
    return ev(txn, customer, "api_call", timestamp, **({"env": env} if env else {}))


LOAD_1_EVENTS = [
    # A: calls (one sent under the alias), filtered-out calls, and every aggregation
    call("a_call_1", "cus_a", "2025-01-05T10:00:00Z"),
    call("a_call_2", "a@example.com", "2025-01-06T10:00:00Z"),
    call("a_call_3", "cus_a", "2025-01-07T10:00:00Z"),
    call("a_call_staging", "cus_a", "2025-01-08T10:00:00Z", env="staging"),
    call("a_call_noenv", "cus_a", "2025-01-08T11:00:00Z", env=None),
    ev("a_tok_1", "cus_a", "completion", "2025-01-10T00:00:00Z", tokens=1234567),
    ev("a_tok_2", "cus_a", "completion", "2025-01-11T00:00:00Z", tokens="765433"),
    ev("a_seat_1", "cus_a", "seat_report", "2025-01-02T00:00:00Z", seats=3),
    ev("a_seat_2", "cus_a", "seat_report", "2025-01-03T00:00:00Z", seats=7),
    ev("a_seat_3", "cus_a", "seat_report", "2025-01-04T00:00:00Z", seats=5),
    ev("a_login_1", "cus_a", "login", "2025-01-02T00:00:00Z", user_id="u1"),
    ev("a_login_2", "cus_a", "login", "2025-01-03T00:00:00Z", user_id="u1"),
    ev("a_login_3", "cus_a", "login", "2025-01-03T01:00:00Z", user_id="u2"),
    ev("a_login_4", "cus_a", "login", "2025-01-04T00:00:00Z", user_id="u3"),
    ev("a_storage_1", "cus_a", "storage_snapshot", "2025-01-05T00:00:00Z", gb=10),
    ev("a_storage_2", "cus_a", "storage_snapshot", "2025-01-20T00:00:00Z", gb="12.5"),
    ev("a_storage_3", "cus_a", "storage_snapshot", "2025-01-10T00:00:00Z", gb=11),
    call("a_feb_1", "cus_a", "2025-02-10T00:00:00Z"),
    call("a_feb_2", "cus_a", "2025-02-14T23:59:59Z"),
    call("a_feb_3", "cus_a", "2025-02-15T00:00:00Z"),
    call("a_feb_4", "cus_a", "2025-02-20T00:00:00Z"),
    call("a_feb_5", "cus_a", "2025-02-28T23:59:59Z"),
    # the same transaction again later in the same load, different payload: a duplicate
    call("a_call_1", "cus_a", "2025-01-25T10:00:00Z"),
    # B: 23:30 at -05:00 on Jan 31 is Feb 1 04:30 UTC; 01:30 at +02:00 on Feb 1 is Jan 31 23:30 UTC
    call("b_tz_1", "cus_b", "2025-01-31T23:30:00-05:00"),
    call("b_tz_2", "cus_b", "2025-02-01T01:30:00+02:00"),
    ev("b_tok_1", "cus_b", "completion", "2025-01-15T00:00:00Z", tokens=500000),
    call("b_soon", "cus_b", "2025-03-01T11:00:00Z"),  # 1 h after loaded_at: accepted
    call("b_future", "cus_b", "2025-03-02T10:00:01Z"),  # 24 h 1 s after loaded_at: rejected
    # C: calls billed; tokens not entitled (premium); users entitled only before Jan 15
    call("c_call_1", "cus_c", "2025-01-03T00:00:00Z"),
    ev("c_tok_1", "cus_c", "completion", "2025-01-03T00:00:00Z", tokens=1000),
    ev("c_login_1", "cus_c", "login", "2025-01-10T00:00:00Z", user_id="u1"),
    ev("c_login_2", "cus_c", "login", "2025-01-20T00:00:00Z", user_id="u2"),
    # D: contract ends Feb 10
    call("d_call_1", "cus_d", "2025-01-20T00:00:00Z"),
    call("d_call_late", "cus_d", "2025-02-12T00:00:00Z"),
    # E: upgrade at Feb 1
    call("e_call_jan", "cus_e", "2025-01-31T23:59:59Z"),
    call("e_call_feb", "cus_e", "2025-02-01T00:00:00Z"),
    # F: CONTRACT_START periods [Jan 10, Feb 10), [Feb 10, Mar 10)
    call("f_call_1", "cus_f", "2025-02-09T00:00:00Z"),
    call("f_call_2", "cus_f", "2025-02-11T00:00:00Z"),
    call("f_call_3", "cus_f", "2025-02-16T00:00:00Z"),
    # G: QUARTERLY periods [Nov 15, Feb 1), [Feb 1, May 1)
    call("g_call_1", "cus_g", "2024-12-05T00:00:00Z"),
    call("g_call_2", "cus_g", "2025-02-03T00:00:00Z"),
    # one of each rejection
    call(None, "cus_a", "2025-01-05T00:00:00Z"),
    ev("r_missing_customer", None, "api_call", "2025-01-05T00:00:00Z", env="prod"),
    ev("r_missing_type", "cus_a", None, "2025-01-05T00:00:00Z"),
    call("r_bad_ts", "cus_a", "2025-02-30T00:00:00Z"),
    {
        "transaction_id": "r_bad_props",
        "customer_id": "cus_a",
        "event_type": "api_call",
        "timestamp": "2025-01-05T00:00:00Z",
        "properties": "[1, 2]",
    },
    call("r_unknown", "nobody", "2025-01-05T00:00:00Z"),
    ev("r_non_numeric", "cus_a", "completion", "2025-01-12T00:00:00Z", tokens="many"),
]
LOAD_1_RAW_LINES = ['{"transaction_id": "r_truncated", "customer_id": "cus_a"']

LOAD_2_EVENTS = [
    # retry of a_tok_1 with another payload: the earliest load wins, so this is a duplicate
    ev("a_tok_1", "cus_a", "completion", "2025-01-10T00:00:00Z", tokens=9),
    # r_bad_ts was malformed the first time: it did not claim the id, so the fixed retry counts
    call("r_bad_ts", "cus_a", "2025-01-12T00:00:00Z"),
]


# cus_b also lists cus_c's id as an alias: the id wins (semantics 1), so cus_c's events stay cus_c's
ALIASES = {"cus_a": ["a@example.com"], "cus_b": ["cus_c"]}


def prepare(p: BillingTestProject) -> str:
    """The scenarios' catalog, metrics and two loads of events; returns the as-of instant to build at.
    (tests/test_spark_parity.py builds them on Spark too.)"""
    p.seeds(
        customers=[
            {"customer_id": c, "name": c.upper(), "ingest_aliases": ALIASES.get(c)}
            for c in ("cus_a", "cus_b", "cus_c", "cus_d", "cus_e", "cus_f", "cus_g")
        ],
        products=PRODUCTS,
        rate_cards=[{"rate_card_id": "rc1", "name": "List", "currency": "USD"}],
        rate_card_rates=RATES,
        contracts=CONTRACTS,
        contract_overrides=OVERRIDES,
        contract_scheduled_charges=SCHEDULED,
    )
    p.metrics(METRICS)
    p.ingest(LOAD_1_EVENTS, loaded_at=LOAD_1, raw_lines=LOAD_1_RAW_LINES)
    p.ingest(LOAD_2_EVENTS, loaded_at=LOAD_2)
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("scenarios"))
    p.result = p.build(as_of=prepare(p))
    return p


def usage_invoices(project, contract_id):
    """{period start date: (status, total)} of a contract's USAGE invoices."""
    return {
        r["period_starting_at"].date(): (r["status"], r["total"])
        for r in project.invoices(contract_id)
        if r["invoice_type"] == "USAGE"
    }


def usage_lines(project, contract_id):
    """{(product, segment start date): (quantity, unit_price, amount)}."""
    return {
        (r["product_id"], r["starting_at"].date()): (r["quantity"], r["unit_price"], r["amount"])
        for r in project.lines(contract_id)
        if r["line_type"] == "usage"
    }


def test_every_aggregation_and_the_alias(project):
    lines = usage_lines(project, "con_a")
    # calls: a_call_1, a_call_2 (via alias), a_call_3, and r_bad_ts's fixed retry (Jan 12) = 4 x 0.01
    assert lines[("p_calls", date(2025, 1, 1))] == (D(4), D("0.01"), D("0.04"))
    # tokens: 1,234,567 + "765433" = 2,000,000 (the retried a_tok_1 and "many" do not count) x 0.000002 = 4.00
    assert lines[("p_tokens", date(2025, 1, 1))] == (D(2000000), D("0.000002"), D("4.00"))
    # peak seats: max(3, 7, 5) = 7 x 5.00 = 35.00
    assert lines[("p_seats", date(2025, 1, 1))] == (D(7), D("5.00"), D("35.00"))
    # unique users: u1, u1, u2, u3 -> 3 x 1.50 = 4.50
    assert lines[("p_users", date(2025, 1, 1))] == (D(3), D("1.50"), D("4.50"))
    # latest storage by event time: Jan 20's 12.5 (loaded before Jan 10's 11); 12.5 x 0.25 = 3.125 -> 3.13 half-up
    assert lines[("p_storage", date(2025, 1, 1))] == (D("12.5"), D("0.25"), D("3.13"))


def test_price_change_splits_the_period_into_segments(project):
    lines = usage_lines(project, "con_a")
    # Feb 1-15 at 0.01: a_feb_1, a_feb_2 (23:59:59 on the 14th) = 0.02; Feb 15-Mar 1 at 0.02: 3 calls = 0.06
    assert lines[("p_calls", date(2025, 2, 1))] == (D(2), D("0.01"), D("0.02"))
    assert lines[("p_calls", date(2025, 2, 15))] == (D(3), D("0.02"), D("0.06"))
    segment = [r for r in project.lines("con_a") if r["starting_at"] == datetime(2025, 2, 1)][0]
    assert segment["ending_before"] == datetime(2025, 2, 15)


def test_usage_invoices_statuses_and_zero_invoice(project):
    # Jan: 0.04 + 4.00 + 35.00 + 4.50 + 3.13 = 46.67, finalized (Feb 1 + 24 h <= Mar 1 12:00)
    # Feb: 0.02 + 0.06 = 0.08, draft (Mar 1 + 24 h > as_of); Mar: started at as_of, $0 draft; Apr: none
    assert usage_invoices(project, "con_a") == {
        date(2025, 1, 1): ("FINALIZED", D("46.67")),
        date(2025, 2, 1): ("DRAFT", D("0.08")),
        date(2025, 3, 1): ("DRAFT", D("0.00")),
    }
    jan = [r for r in project.invoices("con_a") if r["invoice_type"] == "USAGE"][0]
    assert jan["issued_at"] == datetime(2025, 2, 1)
    assert jan["due_at"] == datetime(2025, 3, 3)  # net 30
    assert (jan["subtotal"], jan["credits_applied"], jan["commits_applied"]) == (D("46.67"), D(0), D(0))
    assert jan["currency"] == "USD" and jan["customer_id"] == "cus_a"


def test_recurring_scheduled_charge(project):
    scheduled = [r for r in project.invoices("con_a") if r["invoice_type"] == "SCHEDULED"]
    # $10 monthly from Jan 1: Jan 1, Feb 1, Mar 1 (reached by as_of Mar 1 12:00); Apr 1 not yet
    assert [(r["issued_at"], r["status"], r["total"]) for r in scheduled] == [
        (datetime(2025, 1, 1), "FINALIZED", D("10.00")),
        (datetime(2025, 2, 1), "FINALIZED", D("10.00")),
        (datetime(2025, 3, 1), "FINALIZED", D("10.00")),
    ]
    assert all(r["period_starting_at"] is None for r in scheduled)


def test_utc_offsets_near_the_period_boundary(project):
    lines = usage_lines(project, "con_b")
    # b_tz_2 (Jan 31 23:30 UTC) in January; b_tz_1 (Feb 1 04:30 UTC) in February; b_soon in March at 0.02
    assert lines[("p_calls", date(2025, 1, 1))] == (D(1), D("0.01"), D("0.01"))
    assert lines[("p_calls", date(2025, 2, 1))] == (D(1), D("0.01"), D("0.01"))
    assert lines[("p_calls", date(2025, 3, 1))] == (D(1), D("0.02"), D("0.02"))
    # the ["ai", "enterprise"] override does not match p_tokens ([ai, premium]): 500,000 x 0.000002 = 1.00
    assert lines[("p_tokens", date(2025, 1, 1))] == (D(500000), D("0.000002"), D("1.00"))
    assert usage_invoices(project, "con_b")[date(2025, 1, 1)] == ("FINALIZED", D("1.01"))


def test_entitlement_overrides_by_tag_and_by_product(project):
    lines = usage_lines(project, "con_c")
    # tokens are premium: not entitled, no line. users: entitled until Jan 15 only -> u1 billed, u2 not
    assert lines == {
        ("p_calls", date(2025, 1, 1)): (D(1), D("0.01"), D("0.01")),
        ("p_users", date(2025, 1, 1)): (D(1), D("1.50"), D("1.50")),
    }
    assert usage_invoices(project, "con_c")[date(2025, 1, 1)] == ("FINALIZED", D("1.51"))
    # the tokens event is still metered (it matched a metric); it is just not billed
    assert project.outcomes()["c_tok_1"] == ("metered", None)


def test_contract_ending_mid_month_and_scheduled_invoice(project):
    invoices = project.invoices("con_d")
    usage = [
        (r["period_starting_at"], r["period_ending_before"], r["status"], r["total"])
        for r in invoices
        if r["invoice_type"] == "USAGE"
    ]
    # periods clipped to the contract [Jan 15, Feb 10); Feb 10 + 24 h <= as_of, so both are final
    assert usage == [
        (datetime(2025, 1, 15), datetime(2025, 2, 1), "FINALIZED", D("0.01")),
        (datetime(2025, 2, 1), datetime(2025, 2, 10), "FINALIZED", D("0.00")),
    ]
    scheduled = [r for r in invoices if r["invoice_type"] == "SCHEDULED"]
    # one SCHEDULED invoice at Jan 15: monthly 25.00 (Feb 15 is after the contract end) + setup
    # 100.01 = 125.01 (an amount with sub-cent parts is a catalog problem, D54)
    assert [(r["issued_at"], r["total"], r["line_count"]) for r in scheduled] == [
        (datetime(2025, 1, 15), D("125.01"), 2)
    ]
    amounts = sorted(
        (r["name"], r["amount"], r["unit_price"]) for r in project.lines("con_d") if r["line_type"] == "scheduled"
    )
    assert amounts == [("Monthly platform", D("25.00"), D("25")), ("Setup", D("100.01"), D("100.01"))]
    assert project.outcomes()["d_call_late"] == ("rejected", "no_active_contract")


def test_upgrade_between_contracts(project):
    assert usage_invoices(project, "con_e1") == {date(2025, 1, 1): ("FINALIZED", D("0.01"))}
    assert usage_invoices(project, "con_e2") == {
        date(2025, 2, 1): ("DRAFT", D("0.01")),
        date(2025, 3, 1): ("DRAFT", D("0.00")),
    }


def test_contract_start_billing_periods(project):
    invoices = [r for r in project.invoices("con_f") if r["invoice_type"] == "USAGE"]
    # [Jan 10, Feb 10): f_call_1 at 0.01; [Feb 10, Mar 10): f_call_2 at 0.01 + f_call_3 at 0.02
    assert [(r["period_starting_at"], r["period_ending_before"], r["status"], r["total"]) for r in invoices] == [
        (datetime(2025, 1, 10), datetime(2025, 2, 10), "FINALIZED", D("0.01")),
        (datetime(2025, 2, 10), datetime(2025, 3, 10), "DRAFT", D("0.03")),
    ]


def test_quarterly_billing_periods(project):
    invoices = [r for r in project.invoices("con_g") if r["invoice_type"] == "USAGE"]
    assert [(r["period_starting_at"], r["period_ending_before"], r["status"], r["total"]) for r in invoices] == [
        (datetime(2024, 11, 15), datetime(2025, 2, 1), "FINALIZED", D("0.01")),
        (datetime(2025, 2, 1), datetime(2025, 5, 1), "DRAFT", D("0.01")),
    ]


def test_every_rejection_reason_and_outcome(project):
    outcomes = project.outcomes()
    assert outcomes["r_missing_customer"] == ("rejected", "missing_customer_id")
    assert outcomes["r_missing_type"] == ("rejected", "missing_event_type")
    assert outcomes["r_bad_props"] == ("rejected", "invalid_properties")
    assert outcomes["r_unknown"] == ("rejected", "unknown_customer")
    assert outcomes["r_non_numeric"] == ("rejected", "non_numeric_value")
    assert outcomes["b_future"] == ("rejected", "future_timestamp")
    assert outcomes["b_soon"] == ("metered", None)
    assert outcomes["a_call_staging"] == ("unmetered", None)
    assert outcomes["a_call_noenv"] == ("unmetered", None)  # a missing property fails `in`
    by_reason = {
        (r["outcome"], r["reason"]): r["n"]
        for r in project.query("select outcome, reason, count(*) as n from main.fct_event_outcomes group by all")
    }
    assert by_reason[("rejected", "missing_transaction_id")] == 1
    assert by_reason[("rejected", "invalid_timestamp")] == 1  # r_bad_ts's first copy
    # r_bad_props and the unreadable line
    assert by_reason[("rejected", "invalid_properties")] == 2
    detail = project.query(
        "select transaction_id, reason_detail, source_line from main.fct_event_outcomes "
        "where reason_detail is not null order by source_line"
    )
    assert detail == [
        {
            "transaction_id": "r_non_numeric",
            "reason_detail": "billable metric tokens: its property is not a number; the whole event is rejected "
            "(DECISIONLOG D7)",
            "source_line": detail[0]["source_line"],
        },
        {"transaction_id": None, "reason_detail": "line is not valid JSON", "source_line": len(LOAD_1_EVENTS) + 1},
    ]


def test_duplicates_and_nothing_lost(project):
    rows = project.query(
        "select transaction_id, loaded_at, outcome, reason from main.fct_event_outcomes "
        "where transaction_id in ('a_call_1', 'a_tok_1', 'r_bad_ts') order by 1, 2, 3"
    )
    assert [(r["transaction_id"], r["loaded_at"].isoformat(), r["outcome"], r["reason"]) for r in rows] == [
        ("a_call_1", "2025-03-01T10:00:00", "duplicate", None),  # later line of the same load
        ("a_call_1", "2025-03-01T10:00:00", "metered", None),
        ("a_tok_1", "2025-03-01T10:00:00", "metered", None),
        ("a_tok_1", "2025-03-01T11:00:00", "duplicate", None),
        ("r_bad_ts", "2025-03-01T10:00:00", "rejected", "invalid_timestamp"),
        ("r_bad_ts", "2025-03-01T11:00:00", "metered", None),
    ]
    raw = project.query("select count(*) as n from raw.usage_events")[0]["n"]
    assert raw == len(LOAD_1_EVENTS) + len(LOAD_1_RAW_LINES) + len(LOAD_2_EVENTS)
    outcomes = project.query("select count(*) as n from main.fct_event_outcomes")[0]["n"]
    summary = project.query("select sum(event_count) as n from main.fct_event_load_summary")[0]["n"]
    assert outcomes == summary == raw


def test_usage_daily(project):
    rows = {
        (r["usage_date"], r["billable_metric"]): (r["quantity"], r["event_count"])
        for r in project.query("select * from main.fct_usage_daily where contract_id = 'con_a'")
    }
    # Jan 3: logins u1 and u2 -> 2 distinct, 2 events; Jan 5: only the winning copy of a_call_1
    assert rows[(date(2025, 1, 3), "users")] == (D(2), 2)
    assert rows[(date(2025, 1, 5), "calls")] == (D(1), 1)
    assert rows[(date(2025, 1, 20), "storage")] == (D("12.5"), 1)
    assert rows[(date(2025, 1, 10), "tokens")] == (D(1234567), 1)
    assert (date(2025, 1, 25), "calls") not in rows  # the duplicate's date


def test_no_invoice_for_periods_not_started(project):
    latest = project.query("select max(period_starting_at) as m from main.fct_invoices where invoice_type = 'USAGE'")
    assert latest[0]["m"] <= datetime(2025, 3, 1, 12)


def test_an_alias_equal_to_another_customers_id_is_shadowed(project):
    # cus_b lists "cus_c" as an alias; c_call_1 carries customer_id "cus_c": the id wins, so the call
    # stays on con_c's January invoice (1 x 0.01 in test_entitlement_overrides_by_tag_and_by_product)
    # and con_b's January invoice stays 1.01 (test_utc_offsets_near_the_period_boundary).
    attributed = project.query("select customer_id from main.int_events_attributed where transaction_id = 'c_call_1'")
    assert attributed == [{"customer_id": "cus_c"}]
    # the catalog is accepted (the build succeeded) and a warning names the shadowed alias
    shadowed = [w for w in project.result.warnings if "warn_aliases_shadowed_by_customer_ids" in w]
    assert len(shadowed) == 1, project.result.warnings
    assert "alias_owner=cus_b, ingest_alias=cus_c, shadowing_customer_id=cus_c" in shadowed[0]
