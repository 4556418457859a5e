"""Credits, prepaid and postpaid commits, and the balance ledger (DATA_CONTRACT semantics 8 and 9).

One build, one contract per scenario. Usage is priced FLAT at $1 per call (product `api`) and $1 per
GB (product `storage`), so each month's charges are the event counts / sums written below, and every
drawdown, expiry and true-up is worked out by hand in the test's comment.
Periods are MONTHLY from the first of the month; as_of is 2025-05-10, so January to April are
FINALIZED and May is a DRAFT.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import test_currency
from conftest import BillingTestProject, D

AS_OF = "2025-05-10T00:00:00Z"
METRICS = test_currency.METRICS  # calls (count of `call`) and gigabytes (sum of `store`'s gb)
JAN, FEB, MAR, APR, MAY = (datetime(2025, m, 1) for m in range(1, 6))
ZERO = (D(0), D(0), D(0), D(0))


def usage(customer_id: str, month: int, api: int = 0, storage: int = 0) -> list[dict]:
    """`api` calls and one `storage` event of that many GB on the 10th of the month."""
    events = [
        {
            "transaction_id": f"{customer_id}-{month}-call-{i}",
            "customer_id": customer_id,
            "event_type": "call",
            "timestamp": f"2025-{month:02d}-10T12:00:00Z",
            "properties": {},
        }
        for i in range(api)
    ]
    if storage:
        events.append(
            {
                "transaction_id": f"{customer_id}-{month}-store",
                "customer_id": customer_id,
                "event_type": "store",
                "timestamp": f"2025-{month:02d}-10T12:00:00Z",
                "properties": {"gb": storage},
            }
        )
    return events


def credit(credit_id, contract_id, amount, starting_at, ending_before=None, **extra):
    return {
        "credit_id": credit_id,
        "contract_id": contract_id,
        "name": credit_id,
        "amount": amount,
        "access_starting_at": starting_at,
        "access_ending_before": ending_before,
        **extra,
    }


def commit(commit_id, contract_id, commit_type, amount, starting_at, ending_before=None, **extra):
    return {
        "commit_id": commit_id,
        "contract_id": contract_id,
        "type": commit_type,
        "name": commit_id,
        "amount": amount,
        "access_starting_at": starting_at,
        "access_ending_before": ending_before,
        **extra,
    }


SCENARIOS = {
    # customer: (monthly usage as {month: (api, storage)})
    "k1": {1: (30, 0), 2: (50, 0), 3: (40, 0), 4: (10, 0), 5: (2, 0)},
    "k2": {1: (30, 0), 2: (20, 0), 3: (40, 0)},
    "k3": {1: (30, 40), 2: (60, 20), 3: (5, 0)},
    "k4": {1: (30, 0), 2: (25, 0), 3: (10, 0), 4: (10, 0)},
    "k5": {1: (30, 0), 2: (50, 0), 3: (40, 0)},
    "k6": {1: (30, 0), 2: (50, 0)},
    "k7": {1: (30, 0), 2: (50, 0), 3: (10, 0)},
}


def prepare(p: BillingTestProject) -> str:
    """The balances' catalog and usage, with tests/test_currency.py's JPY, KWD and USD contracts;
    returns the as-of instant to build at. (tests/test_spark_parity.py builds them on Spark too.)"""
    p.metrics(METRICS)
    test_currency.seeds_with_currency_cases(
        p,
        customers=[{"customer_id": f"c{k[1:]}", "name": k} for k in SCENARIOS],
        products=[
            {"product_id": "api", "name": "API calls", "type": "USAGE", "billable_metric": "calls", "tags": ["core"]},
            {"product_id": "storage", "name": "Storage", "type": "USAGE", "billable_metric": "gigabytes"},
            {"product_id": "prepaid", "name": "Prepaid commitment", "type": "FIXED"},
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {"rate_card_id": "rc", "product_id": "api", "starting_at": "2024-01-01", "rate_type": "FLAT", "price": "1"},
            {
                "rate_card_id": "rc",
                "product_id": "storage",
                "starting_at": "2024-01-01",
                "rate_type": "FLAT",
                "price": "1",
            },
        ],
        contracts=[
            {
                "contract_id": k,
                "customer_id": f"c{k[1:]}",
                "rate_card_id": "rc",
                "starting_at": "2025-01-01",
                "net_payment_terms_days": "30",
            }
            for k in SCENARIOS
        ],
        contract_credits=[
            credit("cr1", "k1", "100", "2025-01-01", "2025-04-01"),
            credit("cr1b", "k1", "15", "2025-04-01"),
            credit("cr3a", "k3", "50", "2025-01-01", priority="1", applicable_product_ids=["storage"]),
            credit("cr3b", "k3", "100", "2025-01-01", "2025-07-01", priority="2"),
            credit("cr4", "k4", "20", "2025-01-01", "2025-06-01", priority="1"),
            credit("cr5", "k5", "20", "2025-01-01", "2025-02-01", applicable_product_tags=["core"]),
            credit("cr7", "k7", "100", "2025-01-15", "2025-03-01"),
        ],
        contract_commits=[
            commit(
                "pc2",
                "k2",
                "PREPAID",
                "100",
                "2025-01-01",
                "2025-03-01",
                product_id="prepaid",
                invoice_at="2025-01-01",
                invoice_amount="90",
            ),
            commit("pc4", "k4", "PREPAID", "20", "2025-01-01", "2025-06-01", priority="1", invoice_at="2025-01-01"),
            commit("comp4", "k4", "PREPAID", "20", "2025-01-01", "2025-03-01", priority="1"),
            commit("pp5", "k5", "POSTPAID", "200", "2025-01-01", "2025-03-15"),
            commit("pp6", "k6", "POSTPAID", "50", "2025-01-01", "2025-03-01"),
        ],
    )
    for contract_id, months in SCENARIOS.items():
        for month, (api, storage) in months.items():
            p.ingest(usage(f"c{contract_id[1:]}", month, api, storage), loaded_at=f"2025-{month:02d}-11T00:00:00Z")
    p.ingest(test_currency.events(), loaded_at="2025-01-11T00:00:00Z")  # JPY, KWD and USD contracts (cur_*)
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("balances"))
    p.build(as_of=prepare(p))
    return p


def usage_invoices(project, contract_id) -> dict:
    """period start -> (subtotal, credits_applied, commits_applied, total)"""
    return {
        r["period_starting_at"]: (r["subtotal"], r["credits_applied"], r["commits_applied"], r["total"])
        for r in project.invoices(contract_id)
        if r["invoice_type"] == "USAGE"
    }


def ledger(project, balance_id) -> list[tuple]:
    return [
        (r["entry_type"], r["effective_at"], r["amount"])
        for r in project.query(
            "select * from main.fct_balance_ledger where balance_id = ? order by effective_at, entry_type", [balance_id]
        )
    ]


def balance(project, balance_id) -> dict:
    return project.query("select * from main.fct_balances where balance_id = ?", [balance_id])[0]


def test_credit_draws_down_across_periods(project):
    # cr1 $100 for [Jan, Apr): Jan 30 (70 left), Feb 50 (20 left), Mar 20 of 40 (0 left).
    # cr1b $15 from Apr 1: Apr 10 (5 left), May's draft 2 (3 left).
    assert usage_invoices(project, "k1") == {
        JAN: (D(30), D(30), D(0), D(0)),
        FEB: (D(50), D(50), D(0), D(0)),
        MAR: (D(40), D(20), D(0), D(20)),
        APR: (D(10), D(10), D(0), D(0)),
        MAY: (D(2), D(2), D(0), D(0)),
    }
    applied = [
        (r["starting_at"], r["amount"], r["credit_id"], r["commit_id"])
        for r in project.lines("k1")
        if r["line_type"] == "applied_credit"
    ]
    assert applied == [
        (JAN, D(-30), "cr1", None),
        (FEB, D(-50), "cr1", None),
        (MAR, D(-20), "cr1", None),
        (APR, D(-10), "cr1b", None),
        (MAY, D(-2), "cr1b", None),
    ]
    # used up exactly: no expiration entry; deductions are dated at the invoice's period end
    assert ledger(project, "cr1") == [
        ("SEGMENT_START", JAN, D(100)),
        ("INVOICE_DEDUCTION", FEB, D(-30)),
        ("INVOICE_DEDUCTION", MAR, D(-50)),
        ("INVOICE_DEDUCTION", APR, D(-20)),
    ]
    # the open draft (May) counts in what is left
    b = balance(project, "cr1b")
    assert (b["status"], b["consumed_amount"], b["draft_consumed_amount"], b["remaining_amount"]) == (
        "ACTIVE",
        D(12),
        D(2),
        D(3),
    )


def test_prepaid_commit_purchase_and_expiry_with_a_remainder(project):
    # pc2 $100 bought for $90 on Jan 1 (SCHEDULED invoice), for [Jan 1, Mar 1):
    # Jan draws 30, Feb 20; March is outside the window; 50 expires on Mar 1.
    assert usage_invoices(project, "k2") == {
        JAN: (D(30), D(0), D(30), D(0)),
        FEB: (D(20), D(0), D(20), D(0)),
        MAR: (D(40), D(0), D(0), D(40)),
        APR: ZERO,
        MAY: ZERO,
    }
    scheduled = [r for r in project.invoices("k2") if r["invoice_type"] == "SCHEDULED"]
    assert [(r["issued_at"], r["status"], r["total"]) for r in scheduled] == [(JAN, "FINALIZED", D(90))]
    purchase = [r for r in project.lines("k2") if r["line_type"] == "commit_purchase"]
    assert [(r["commit_id"], r["product_id"], r["amount"], r["starting_at"], r["ending_before"]) for r in purchase] == [
        ("pc2", "prepaid", D(90), JAN, MAR)
    ]
    assert ledger(project, "pc2") == [
        ("SEGMENT_START", JAN, D(100)),
        ("INVOICE_DEDUCTION", FEB, D(-30)),
        ("EXPIRATION", MAR, D(-50)),
        ("INVOICE_DEDUCTION", MAR, D(-20)),
    ]
    b = balance(project, "pc2")
    assert (b["balance_type"], b["status"], b["consumed_amount"], b["expired_amount"], b["remaining_amount"]) == (
        "PREPAID_COMMIT",
        "ENDED",
        D(50),
        D(50),
        D(0),
    )


def test_priority_against_a_product_restriction(project):
    # cr3a (priority 1, storage only, $50), then cr3b (priority 2, everything, $100).
    # Jan: api 30, storage 40. cr3a takes storage 40 (10 left); cr3b takes api 30 (70 left).
    # Feb: api 60, storage 20. cr3a takes storage 10 (0 left); cr3b takes api 60 and storage 10 (0 left).
    # Mar: api 5, nothing left.
    assert usage_invoices(project, "k3") == {
        JAN: (D(70), D(70), D(0), D(0)),
        FEB: (D(80), D(80), D(0), D(0)),
        MAR: (D(5), D(0), D(0), D(5)),
        APR: ZERO,
        MAY: ZERO,
    }
    by_credit = {}
    for r in project.lines("k3"):
        if r["line_type"] == "applied_credit":
            by_credit.setdefault(r["credit_id"], []).append((r["starting_at"], r["amount"]))
    assert by_credit == {"cr3a": [(JAN, D(-40)), (FEB, D(-10))], "cr3b": [(JAN, D(-30)), (FEB, D(-70))]}


def test_credits_and_complimentary_commits_before_paid_ones(project):
    # All priority 1. Order: comp4 (complimentary, ends Mar 1), cr4 (credit, ends Jun 1), pc4 (paid).
    # Jan 30: comp4 20, cr4 10.  Feb 25: cr4 10, pc4 15.  Mar 10: pc4 5 (comp4 has ended).  Apr 10: nothing.
    assert usage_invoices(project, "k4") == {
        JAN: (D(30), D(10), D(20), D(0)),
        FEB: (D(25), D(10), D(15), D(0)),
        MAR: (D(10), D(0), D(5), D(5)),
        APR: (D(10), D(0), D(0), D(10)),
        MAY: ZERO,
    }
    # a complimentary commit is never invoiced; the paid one is, at its amount ($20)
    assert [(r["commit_id"], r["amount"]) for r in project.lines("k4") if r["line_type"] == "commit_purchase"] == [
        ("pc4", D(20))
    ]
    ranks = {
        r["balance_id"]: r["drawdown_rank"]
        for r in project.query("select balance_id, drawdown_rank from main.fct_balances where contract_id = 'k4'")
    }
    assert ranks == {"comp4": 1, "cr4": 2, "pc4": 3}


def test_postpaid_shortfall_is_trued_up_on_the_last_overlapping_period(project):
    # cr5 ($20, api via tag "core", January) draws 20 of January's 30: Jan total 10.
    # pp5 ($200 for [Jan 1, Mar 15)) counts what the credit left of the lines within its window:
    # Jan 10 + Feb 50 = 60 (March's line spans [Mar 1, Apr 1), not within the window). Its shortfall,
    # 140, is billed on March's invoice (the last period overlapping the window): 40 + 140 = 180.
    # Postpaid commits never reduce an invoice.
    assert usage_invoices(project, "k5") == {
        JAN: (D(30), D(20), D(0), D(10)),
        FEB: (D(50), D(0), D(0), D(50)),
        MAR: (D(180), D(0), D(0), D(180)),
        APR: ZERO,
        MAY: ZERO,
    }
    true_ups = [r for r in project.lines("k5") if r["line_type"] == "commit_true_up"]
    assert [(r["commit_id"], r["amount"], r["starting_at"], r["ending_before"]) for r in true_ups] == [
        ("pp5", D(140), JAN, datetime(2025, 3, 15))
    ]
    assert ledger(project, "pp5") == [
        ("SEGMENT_START", JAN, D(200)),
        ("INVOICE_DEDUCTION", FEB, D(-10)),
        ("INVOICE_DEDUCTION", MAR, D(-50)),
        ("TRUEUP", APR, D(-140)),
    ]
    b = balance(project, "pp5")
    assert (b["balance_type"], b["consumed_amount"], b["trued_up_amount"], b["remaining_amount"]) == (
        "POSTPAID_COMMIT",
        D(60),
        D(140),
        D(0),
    )


def test_postpaid_commit_met_has_no_true_up(project):
    # pp6 $50 for [Jan, Mar): Jan 30 + Feb 20 (of 50) = 50 consumed: no shortfall, no line.
    assert usage_invoices(project, "k6") == {
        JAN: (D(30), D(0), D(0), D(30)),
        FEB: (D(50), D(0), D(0), D(50)),
        MAR: ZERO,
        APR: ZERO,
        MAY: ZERO,
    }
    assert not [r for r in project.lines("k6") if r["line_type"] in ("commit_true_up", "applied_commit")]
    assert balance(project, "pp6")["remaining_amount"] == D(0)


def test_only_lines_within_the_access_window_are_drawn(project):
    # cr7 $100 for [Jan 15, Mar 1): January's line spans [Jan 1, Feb 1), not within the window, so
    # it is not drawn; February's 50 is; the other 50 expires on Mar 1.
    assert usage_invoices(project, "k7") == {
        JAN: (D(30), D(0), D(0), D(30)),
        FEB: (D(50), D(50), D(0), D(0)),
        MAR: (D(10), D(0), D(0), D(10)),
        APR: ZERO,
        MAY: ZERO,
    }
    assert ("EXPIRATION", MAR, D(-50)) in ledger(project, "cr7")


def test_ledger_adds_up_to_balances(project):
    mismatches = project.query("""
        select b.balance_id, b.remaining_amount, sum(l.amount) as ledger_sum
        from main.fct_balances b join main.fct_balance_ledger l using (balance_id)
        group by b.balance_id, b.remaining_amount having b.remaining_amount <> sum(l.amount)""")
    assert mismatches == []
    # what invoices applied equals what the ledger deducted, for prepaid balances
    applied = project.query(
        "select sum(amount) as s from main.fct_invoice_line_items "
        "where line_type in ('applied_credit', 'applied_commit') and contract_id not like 'cur%'"
    )[0]["s"]
    deducted = project.query(
        "select sum(amount) as s from main.fct_balance_ledger "
        "where entry_type = 'INVOICE_DEDUCTION' and balance_type <> 'POSTPAID_COMMIT' and contract_id not like 'cur%'"
    )[0]["s"]
    # k1 112 + k2 50 + k3 150 + k4 60 + k5 20 + k7 50
    assert applied == deducted == D(-442)


def test_bad_balances_fail_the_build_naming_row_and_problem(make_project):
    p = make_project()
    p.metrics(METRICS)
    p.seeds(
        customers=[{"customer_id": "c1", "name": "One"}],
        products=[{"product_id": "api", "name": "API", "type": "USAGE", "billable_metric": "calls"}],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        contracts=[
            {
                "contract_id": "k1",
                "customer_id": "c1",
                "rate_card_id": "rc",
                "starting_at": "2025-01-01",
                "ending_before": "2026-01-01",
            }
        ],
        contract_credits=[
            credit("dup", "k1", "10", "2025-01-01"),
            credit("cents", "k1", "10.005", "2025-01-01"),
            credit("late", "k1", "10", "2026-02-01"),
            credit("nowhere", "k1", "10", "2025-01-01", applicable_product_ids=["api", "ghost"]),
            credit("backwards", "k1", "10", "2025-03-01", "2025-02-01"),
        ],
        contract_commits=[
            commit("dup", "k1", "PREPAID", "10", "2025-01-01"),
            commit("open_minimum", "k1", "POSTPAID", "100", "2025-01-01"),
            commit("odd", "k1", "MONTHLY", "100", "2025-01-01", "2025-06-01"),
            commit("bought_late", "k1", "PREPAID", "100", "2025-01-01", "2025-06-01", invoice_at="2027-01-01"),
        ],
    )
    result = p.build(as_of=AS_OF, expect_success=False)
    text = "\n".join(result.problems)
    for expected in [
        "seed=contract_credits.csv, row_key=dup, problem=credit_id is also a commit_id",
        "seed=contract_credits.csv, row_key=cents, problem=amount has more than 2 decimal places",
        "seed=contract_credits.csv, row_key=late, problem=the access window does not overlap its contract",
        "seed=contract_credits.csv, row_key=nowhere, problem=applicable_product_ids names ghost, which is not in products",
        "seed=contract_credits.csv, row_key=backwards, problem=access_ending_before is not after access_starting_at",
        "seed=contract_commits.csv, row_key=open_minimum, problem=a POSTPAID commit needs access_ending_before",
        "seed=contract_commits.csv, row_key=odd, problem=type must be PREPAID or POSTPAID",
        "seed=contract_commits.csv, row_key=bought_late, problem=invoice_at is outside its contract",
    ]:
        assert expected in text, f"missing: {expected}\n{text}"
    assert not p.query("select * from information_schema.tables where table_name = 'fct_invoices'")
