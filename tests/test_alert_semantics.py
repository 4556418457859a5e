"""Alerts that tell the truth (issue 18; DECISIONLOG D66 to D69).

One story, two builds (module fixture). Contracts are MONTHLY from 2025-01-01; usage is a SUM metric
`units` priced FLAT at 1.00 USD a unit (1 JPY on the JPY rate card).

  pp  only a POSTPAID commit of 100 for [Jan 1, May 1); 10 units in January. April (the last period
      overlapping the commit) carries the true-up 100 - 10 = 90 on its draft: the commit is ACTIVE
      with 0.00 remaining, yet it is a minimum spend, not a balance that can run low (D66).
  ex  a credit of 200 for [Jan 1, Feb 1), 64.24 units in January: 135.76 expired on Feb 1. No
      active credit is left to watch, so the low-credit alert is ok, not "0.00 left" (D67).
  ac  a credit of 100 for [Jan 1, Feb 1) (expired unused) and one of 40 with no end: 40.00 left of
      the active one is low (<= 50); the expired 100 counts for nothing.
  bf  a backfill: 150 units in January, 50 in February, 120 in March, all loaded on Apr 10; the first
      build (as of Apr 10) fires spend-100 and units-100 for January (150) and March (120), not for
      February (50) nor April (0.00, the current period) (D69).
      Build 2 (as of Apr 20): 60 more February units loaded on Apr 20 are late for the final
      February invoice: billed on April's draft as a late_usage_adjustment of 60.00, they count for
      February (50 + 60 = 110: fires now) and not for April (still 0.00).
  jp  a JPY contract with 1500 units in April: spend-jpy-1000 is in alarm at ¥1,500 (D68).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from click.testing import CliRunner
from conftest import BillingTestProject, D

from billing_cli.cli import main
from billing_cli.db import connect

METRICS = "billable_metrics:\n  - {name: units, event_type: use, aggregation: sum, property: n}\n"
ALERTS = """alerts:
  - {id: low-commit-50, type: low_remaining_commit_balance_reached, threshold: 50}
  - {id: low-credit-50, type: low_credit_balance_reached, threshold: 50}
  - {id: spend-100, type: spend_threshold_reached, threshold: 100, customer_ids: [bf]}
  - {id: units-100, type: usage_threshold_reached, billable_metric: units, threshold: 100, customer_ids: [bf]}
  - {id: spend-jpy-1000, type: spend_threshold_reached, threshold: 1000, customer_ids: [jp]}
"""
SECRET = "whsec_test_secret"
CUSTOMERS = ("pp", "ex", "ac", "bf", "jp")
APR10, APR20 = "2025-04-10T00:00:00Z", "2025-04-20T00:00:00Z"


def use(customer: str, day: str, n: str, tag: str) -> dict:
    return {
        "transaction_id": f"{customer}-{tag}",
        "customer_id": customer,
        "event_type": "use",
        "timestamp": f"{day}T12:00:00Z",
        "properties": {"n": n},
    }


def balance(balance_id: str, contract_id: str, amount: str, starts: str, ends: str | None = None) -> dict:
    return {
        "contract_id": contract_id,
        "name": balance_id,
        "amount": amount,
        "access_starting_at": starts,
        "access_ending_before": ends,
    }


def alerts_by_key(p: BillingTestProject) -> dict:
    return {(r["alert_id"], r["customer_id"]): r for r in p.query("select * from main.fct_alerts")}


def firings(p: BillingTestProject, customer_id: str) -> list[tuple]:
    return [
        (r["alert_id"], r["window_key"], r["current_value"], str(r["changed_at"]))
        for r in p.query(
            "select * from main.alert_state_changes where customer_id = ? and state = 'in_alarm' "
            "order by alert_id, window_key",
            [customer_id],
        )
    ]


def cli(p: BillingTestProject, *args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["--project-dir", str(p.dir), "--db", str(p.db_path), *args], env=env)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    p = BillingTestProject(tmp_path_factory.mktemp("alert_semantics"))
    p.metrics(METRICS).alerts(ALERTS)
    p.seeds(
        customers=[{"customer_id": c, "name": f"Customer {c}"} for c in CUSTOMERS],
        products=[{"product_id": "api", "name": "API", "type": "USAGE", "billable_metric": "units"}],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}, {"rate_card_id": "jpy", "name": "Yen", "currency": "JPY"}],
        rate_card_rates=[
            {"rate_card_id": rc, "product_id": "api", "starting_at": "2024-01-01", "rate_type": "FLAT", "price": "1"}
            for rc in ("rc", "jpy")
        ],
        contracts=[
            {
                "contract_id": f"k{c}",
                "customer_id": c,
                "rate_card_id": "jpy" if c == "jp" else "rc",
                "starting_at": "2025-01-01",
                "net_payment_terms_days": "30",
            }
            for c in CUSTOMERS
        ],
        contract_commits=[
            {
                "commit_id": "pp-minimum",
                "type": "POSTPAID",
                **balance("pp-minimum", "kpp", "100", "2025-01-01", "2025-05-01"),
            }
        ],
        contract_credits=[
            {"credit_id": "ex-credit", **balance("ex-credit", "kex", "200", "2025-01-01", "2025-02-01")},
            {"credit_id": "ac-old", **balance("ac-old", "kac", "100", "2025-01-01", "2025-02-01")},
            {"credit_id": "ac-new", **balance("ac-new", "kac", "40", "2025-01-01")},
        ],
    )
    p.ingest(
        [
            use("pp", "2025-01-10", "10", "jan"),
            use("ex", "2025-01-10", "64.24", "jan"),
            use("bf", "2025-01-10", "150", "jan"),
            use("bf", "2025-02-10", "50", "feb"),
            use("bf", "2025-03-10", "120", "mar"),
            use("jp", "2025-04-05", "1500", "apr"),
        ],
        loaded_at=APR10,
    )
    p.build(as_of=APR10)
    snapshots = {
        "alerts_1": alerts_by_key(p),
        "firings_1": firings(p, "bf"),
        "balances": {r["balance_id"]: r for r in p.query("select * from main.fct_balances")},
        "status_jp": cli(p, "status", "jp"),
        "status_ac": cli(p, "status", "ac"),
    }
    p.ingest([use("bf", "2025-02-15", "60", "feb-late")], loaded_at=APR20)
    p.build(as_of=APR20)
    snapshots["alerts_2"] = alerts_by_key(p)
    snapshots["firings_2"] = firings(p, "bf")
    snapshots["late_lines"] = [
        (r["billed_on"], r["adjusted"], r["amount"])
        for r in p.query(
            "select billed.period_starting_at as billed_on, adjusted.period_starting_at as adjusted, l.amount "
            "from main.fct_invoice_line_items as l "
            "join main.fct_invoices as billed on l.invoice_id = billed.invoice_id "
            "join main.fct_invoices as adjusted on l.adjusted_invoice_id = adjusted.invoice_id "
            "where l.line_type = 'late_usage_adjustment'"
        )
    ]
    return p, snapshots


def state(alerts: dict, alert_id: str, customer_id: str) -> tuple:
    row = alerts[(alert_id, customer_id)]
    return row["state"], row["current_value"]


def test_a_postpaid_commit_is_not_a_balance_that_runs_low(story):
    """D66: pp's only commit is postpaid, trued up on April's draft (0.00 remaining, ACTIVE)."""
    _, s = story
    b = s["balances"]["pp-minimum"]
    assert (b["balance_type"], b["status"], b["consumed_amount"], b["trued_up_amount"], b["remaining_amount"]) == (
        "POSTPAID_COMMIT",
        "ACTIVE",
        D(10),
        D(90),
        D(0),
    )
    assert state(s["alerts_1"], "low-commit-50", "pp") == ("ok", None)
    assert s["alerts_1"][("low-commit-50", "pp")]["times_fired"] == 0


def test_an_expired_credit_is_gone_not_low(story):
    """D67: only active credits are watched; ex's expired 135.76 leaves nothing to watch."""
    _, s = story
    b = s["balances"]["ex-credit"]
    assert (b["status"], b["consumed_amount"], b["expired_amount"], b["remaining_amount"]) == (
        "ENDED",
        D("64.24"),
        D("135.76"),
        D(0),
    )
    assert state(s["alerts_1"], "low-credit-50", "ex") == ("ok", None)
    assert s["alerts_2"][("low-credit-50", "ex")]["times_fired"] == 0
    # ac: the active credit's 40.00 is low; its expired 100 is not counted
    assert state(s["alerts_1"], "low-credit-50", "ac") == ("in_alarm", D(40))
    assert s["alerts_1"][("low-credit-50", "ac")]["currency"] == "USD"


def test_a_backfill_fires_for_each_past_period_that_crossed(story):
    """D69: state per billing period; the first build rates January to April and fires for each."""
    _, s = story
    fired_on_apr10 = "2025-04-10 00:00:00"
    assert s["firings_1"] == [
        ("spend-100", "kbf/2025-01-01 00:00:00.000000", D(150), fired_on_apr10),
        ("spend-100", "kbf/2025-03-01 00:00:00.000000", D(120), fired_on_apr10),
        ("units-100", "kbf/2025-01-01 00:00:00.000000", D(150), fired_on_apr10),
        ("units-100", "kbf/2025-03-01 00:00:00.000000", D(120), fired_on_apr10),
    ]
    # fct_alerts shows the period in progress (April: nothing yet) and counts every firing
    row = s["alerts_1"][("spend-100", "bf")]
    assert (row["state"], row["current_value"], row["window_key"], row["times_fired"]) == (
        "ok",
        D(0),
        "kbf/2025-04-01 00:00:00.000000",
        2,
    )


def test_late_usage_fires_for_its_own_period(story):
    """D69: 60 late February units, billed on April's draft, make February 110: it fires now."""
    _, s = story
    assert s["late_lines"] == [(datetime(2025, 4, 1), datetime(2025, 2, 1), D(60))]
    new = sorted(set(s["firings_2"]) - set(s["firings_1"]))
    assert new == [
        ("spend-100", "kbf/2025-02-01 00:00:00.000000", D(110), "2025-04-20 00:00:00"),
        ("units-100", "kbf/2025-02-01 00:00:00.000000", D(110), "2025-04-20 00:00:00"),
    ]
    assert state(s["alerts_2"], "spend-100", "bf") == ("ok", D(0))  # April: the adjustment is February's
    assert s["alerts_2"][("spend-100", "bf")]["times_fired"] == 3


def test_every_firing_has_its_own_notification_id(story):
    p, _ = story
    ids = [r["state_change_id"] for r in p.query("select * from main.alert_state_changes where state = 'in_alarm'")]
    assert len(ids) == len(set(ids)) == 8  # bf: 6; ac: low credit; jp: spend


def test_status_prints_thresholds_and_values_in_the_currency(story):
    """D68: `500.0000000000` no more: money in the contract's currency, exactly."""
    _, s = story
    jp, ac = s["status_jp"], s["status_ac"]
    assert jp.exit_code == 0 and ac.exit_code == 0, jp.output + ac.output
    assert re.search(r"spend-jpy-1000\s+spend_threshold_reached\s+¥1,000\s+¥1,500\s+2025-04-10", jp.stdout), jp.stdout
    assert re.search(r"low-credit-50\s+low_credit_balance_reached\s+\$50\.00\s+\$40\.00\s+2025-04-10", ac.stdout), (
        ac.stdout
    )
    assert "0000000" not in jp.stdout + ac.stdout


def test_webhook_bodies_carry_exact_amounts_and_their_currency(story, tmp_path):
    """D68: threshold and value as exact decimal text with the currency's minor units."""
    p, _ = story
    result = cli(p, "alerts", "deliver", "--to", str(tmp_path), env={"BILLING_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    bodies = [json.loads(f.read_text()) for f in tmp_path.glob("*.json") if not f.name.endswith(".headers.json")]
    by_key = {(b["properties"]["alert_id"], b["properties"]["window_key"]): b["properties"] for b in bodies}
    assert len(by_key) == 8
    jan = by_key[("spend-100", "kbf/2025-01-01 00:00:00.000000")]
    assert (jan["threshold"], jan["value"], jan["currency"]) == ("100.00", "150.00", "USD")
    jpy = by_key[("spend-jpy-1000", "kjp/2025-04-01 00:00:00.000000")]
    assert (jpy["threshold"], jpy["value"], jpy["currency"]) == ("1000", "1500", "JPY")
    units = by_key[("units-100", "kbf/2025-01-01 00:00:00.000000")]
    assert (units["threshold"], units["value"], "currency" in units) == ("100", "150", False)
    assert datetime.strptime(units["fired_at"], "%Y-%m-%dT%H:%M:%SZ") == datetime(2025, 4, 10)


def test_a_store_recorded_before_the_currency_column_gains_it(story, tmp_path):
    """D68: alert_state_changes is never rebuilt; a store from before the column is extended."""
    p, _ = story
    con = connect(p.db_path)
    try:
        con.execute("alter table main.alert_state_changes drop column currency")  # as an older release made it
    finally:
        con.close()
    result = cli(p, "alerts", "deliver", "--to", str(tmp_path), env={"BILLING_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0 and "Delivered 8 notification(s)" in result.output, result.output
    bodies = [json.loads(f.read_text()) for f in tmp_path.glob("*.json") if not f.name.endswith(".headers.json")]
    jan = next(b["properties"] for b in bodies if b["properties"]["window_key"] == "kbf/2025-01-01 00:00:00.000000")
    assert (jan["threshold"], jan["value"], "currency" in jan) == ("100", "150", False)  # exact, no currency known
    p.build(as_of=APR20)
    rows = p.query("select currency, count(*) as n from main.alert_state_changes group by currency")
    assert rows == [{"currency": None, "n": 8}]  # the column is back, empty for the rows recorded without it
