"""Visibility (issue 8): live spend, alerts and their webhooks, the Stripe hand-off, usage statements.

One story, four builds (module fixture). Usage is priced FLAT at $0.10 per call; contracts are
MONTHLY from 2025-01-01; c1 has a $20 credit (no end) and a $5 onboarding charge on 2025-02-10
(FIXED product: not eligible for the credit); c2 has no balances and no Stripe account.

  build A  as_of 2025-02-11  c1: 100 calls in Jan, 50 on Feb 5; c2: 30 calls on Feb 5
  build B  as_of 2025-02-20  + c1: 20 calls on Feb 18
  build C  as_of 2025-03-02  (March begins; February finalizes at Mar 2 00:00 = period end + 24 h)
  build D  as_of 2025-03-05  + c1: 150 calls on Mar 4

Worked by hand:
  c1 January: 10.00 of calls, all drawn from the credit (20 -> 10); total 0.00, FINALIZED.
  Build A, February so far for c1: calls 5.00 (credit 10 -> 5), onboarding 5.00 (scheduled, FINALIZED).
    10 of 28 days elapsed: calls run rate 5.00 / 10 = 0.50 a day, forecast 5.00 + 0.50 x 18 = 14.00;
    onboarding is not extrapolated: 5.00. Total spend 10.00, forecast 19.00, credit left 5.00.
  c2 at A: calls 3.00, run rate 0.30, forecast 3.00 + 0.30 x 18 = 8.40; its February draft is 3.00.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from click.testing import CliRunner
from conftest import REPO, BillingTestProject, D

from billing_cli.cli import main

METRICS = "billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n"
ALERTS = """alerts:
  - {id: spend-10, type: spend_threshold_reached, threshold: 10}
  - {id: calls-60, type: usage_threshold_reached, billable_metric: calls, threshold: 60}
  - {id: invoice-2, type: invoice_total_reached, threshold: 2}
  - {id: low-credit-5, type: low_credit_balance_reached, threshold: 5}
  - {id: low-commit-1, type: low_remaining_commit_balance_reached, threshold: 1, customer_ids: [c1]}
"""
SECRET = "whsec_test_secret"


def calls(customer: str, day: str, n: int, tag: str) -> list[dict]:
    return [
        {
            "transaction_id": f"{customer}-{tag}-{i}",
            "customer_id": customer,
            "event_type": "call",
            "timestamp": f"{day}T12:00:00Z",
            "properties": {},
        }
        for i in range(n)
    ]


def alerts_by_key(p: BillingTestProject) -> dict:
    return {(r["alert_id"], r["customer_id"]): r for r in p.query("select * from main.fct_alerts")}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    p = BillingTestProject(tmp_path_factory.mktemp("visibility"))
    p.metrics(METRICS).alerts(ALERTS)
    p.seeds(
        customers=[
            {
                "customer_id": "c1",
                "name": "Customer One",
                "billing_provider": "stripe",
                "billing_provider_customer_id": "cus_S1",
            },
            {"customer_id": "c2", "name": "Customer Two"},
        ],
        products=[
            {"product_id": "api", "name": "API calls", "type": "USAGE", "billable_metric": "calls"},
            {"product_id": "setup", "name": "Onboarding", "type": "FIXED"},
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {
                "rate_card_id": "rc",
                "product_id": "api",
                "starting_at": "2024-01-01",
                "rate_type": "FLAT",
                "price": "0.10",
            }
        ],
        contracts=[
            {
                "contract_id": f"k{n}",
                "customer_id": f"c{n}",
                "rate_card_id": "rc",
                "name": f"Contract {n}",
                "starting_at": "2025-01-01",
                "net_payment_terms_days": "30",
            }
            for n in (1, 2)
        ],
        contract_scheduled_charges=[
            {
                "scheduled_charge_id": "sc1",
                "contract_id": "k1",
                "product_id": "setup",
                "name": "Onboarding",
                "timestamp": "2025-02-10",
                "amount": "5",
            }
        ],
        contract_credits=[
            {
                "credit_id": "cr1",
                "contract_id": "k1",
                "name": "Welcome credit",
                "amount": "20",
                "access_starting_at": "2025-01-01",
            }
        ],
    )
    snapshots = {}
    p.ingest(
        calls("c1", "2025-01-15", 100, "jan")
        + calls("c1", "2025-02-05", 50, "feb5")
        + calls("c2", "2025-02-05", 30, "feb5"),
        loaded_at="2025-02-11T00:00:00Z",
    )
    p.build(as_of="2025-02-11T00:00:00Z")
    snapshots["A"] = {
        "spend": p.query("select * from main.fct_customer_spend order by customer_id, product_id"),
        "alerts": alerts_by_key(p),
    }
    snapshots["status_c1_A"] = CliRunner().invoke(
        main, ["--project-dir", str(p.dir), "--db", str(p.db_path), "status", "c1"]
    )
    p.ingest(calls("c1", "2025-02-18", 20, "feb18"), loaded_at="2025-02-20T00:00:00Z")
    p.build(as_of="2025-02-20T00:00:00Z")
    snapshots["B"] = {"alerts": alerts_by_key(p)}
    p.build(as_of="2025-03-02T00:00:00Z")
    snapshots["C"] = {"alerts": alerts_by_key(p)}
    p.ingest(calls("c1", "2025-03-04", 150, "mar4"), loaded_at="2025-03-05T00:00:00Z")
    p.build(as_of="2025-03-05T00:00:00Z")
    snapshots["D"] = {"alerts": alerts_by_key(p)}
    return p, snapshots


def cli(p: BillingTestProject, *args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["--project-dir", str(p.dir), "--db", str(p.db_path), *args], env=env)


# -- live spend ---------------------------------------------------------------------------------


def test_customer_spend_has_spend_forecast_and_balances(story):
    _, snapshots = story
    rows = {(r["customer_id"], r["product_id"]): r for r in snapshots["A"]["spend"]}
    api = rows[("c1", "api")]
    assert (api["days_elapsed"], api["days_in_period"]) == (D(10), D(28))
    assert (api["spend_to_date"], api["daily_run_rate"], api["forecast_period_spend"]) == (
        D("5.00"),
        D("0.50"),
        D("14.00"),
    )
    setup = rows[("c1", "setup")]
    assert (setup["spend_to_date"], setup["daily_run_rate"], setup["forecast_period_spend"]) == (
        D("5.00"),
        D(0),
        D("5.00"),
    )
    assert api["contract_credit_balance_remaining"] == D("5.00") and api["contract_commit_balance_remaining"] == D(0)
    c2 = rows[("c2", "api")]
    assert (c2["spend_to_date"], c2["daily_run_rate"], c2["forecast_period_spend"]) == (D("3.00"), D("0.30"), D("8.40"))
    assert str(api["period_starting_at"]) == "2025-02-01 00:00:00" and len(rows) == 3


def test_status_prints_the_spend_table(story):
    _, snapshots = story
    result = snapshots["status_c1_A"]
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Customer c1 (Customer One)" in out and "period 2025-02-01 to 2025-03-01, day 10 of 28" in out
    # amounts in the contract's currency, as on the documents (D68)
    assert re.search(r"API calls\s+\$5\.00\s+\$0\.50\s+\$14\.00", out), out
    assert re.search(r"Onboarding\s+\$5\.00\s+\$0\.00\s+\$5\.00", out), out
    assert re.search(r"Total\s+\$10\.00\s+\$19\.00", out), out
    assert "credits $5.00, commits $0.00" in out
    assert re.search(r"spend-10\s+spend_threshold_reached\s+\$10\.00\s+\$10\.00\s+2025-02-11", out), out


def test_status_of_an_unknown_customer_is_a_clean_error(story):
    p, _ = story
    result = cli(p, "status", "nobody")
    assert result.exit_code == 1 and "unknown customer 'nobody'" in result.stderr
    assert "Traceback" not in result.output


# -- alerts -------------------------------------------------------------------------------------


def state(snapshot, alert_id, customer_id):
    row = snapshot["alerts"][(alert_id, customer_id)]
    return row["state"], row["current_value"], row["times_fired"], row["fired_at"] and str(row["fired_at"])


def test_alert_states_follow_the_story(story):
    _, s = story
    a, b, c, d = s["A"], s["B"], s["C"], s["D"]
    # A: c1 spent 10.00 (>= 10) and has 5.00 credit left (<= 5); c2's draft is 3.00 (>= 2). The
    # first build also rates January (D69): c1's 100 calls (10.00) fire spend-10 and calls-60 there.
    assert state(a, "spend-10", "c1") == ("in_alarm", D("10.00"), 2, "2025-02-11 00:00:00")
    assert state(a, "spend-10", "c2")[:2] == ("ok", D("3.00"))
    assert state(a, "calls-60", "c1")[:2] == ("ok", D(50))
    assert state(a, "invoice-2", "c2") == ("in_alarm", D("3.00"), 1, "2025-02-11 00:00:00")
    assert state(a, "invoice-2", "c1")[:2] == ("ok", D("0.00"))
    assert state(a, "low-credit-5", "c1") == ("in_alarm", D("5.00"), 1, "2025-02-11 00:00:00")
    assert state(a, "low-credit-5", "c2") == ("ok", None, 0, None)  # no credit to watch
    assert state(a, "low-commit-1", "c1") == ("ok", None, 0, None)
    assert ("low-commit-1", "c2") not in a["alerts"]  # scoped to c1
    # B: 70 calls fire calls-60; spend (12.00) and credit (3.00) stay in alarm without firing again
    assert state(b, "calls-60", "c1") == ("in_alarm", D(70), 2, "2025-02-20 00:00:00")
    assert state(b, "spend-10", "c1") == ("in_alarm", D("12.00"), 2, "2025-02-11 00:00:00")
    assert state(b, "low-credit-5", "c1") == ("in_alarm", D("3.00"), 1, "2025-02-11 00:00:00")
    # C: a new period: spend and usage are back to 0; February finalized, so c2 has no big draft
    assert state(c, "spend-10", "c1") == ("ok", D("0.00"), 2, None)
    assert state(c, "calls-60", "c1") == ("ok", D(0), 2, None)
    assert state(c, "invoice-2", "c2")[:3] == ("ok", D("0.00"), 1)
    # D: 150 calls in March fire spend and usage again; the credit (now 0.00) never recovered
    assert state(d, "spend-10", "c1") == ("in_alarm", D("15.00"), 3, "2025-03-05 00:00:00")
    assert state(d, "calls-60", "c1") == ("in_alarm", D(150), 3, "2025-03-05 00:00:00")
    assert state(d, "low-credit-5", "c1") == ("in_alarm", D("0.00"), 1, "2025-02-11 00:00:00")
    # ... and c1's March draft, 15.00 less the last 3.00 of credit, reaches invoice-2
    assert state(d, "invoice-2", "c1") == ("in_alarm", D("12.00"), 1, "2025-03-05 00:00:00")


def test_alert_store_survives_full_refresh(story, tmp_path):
    p, _ = story
    before = p.query("select * from main.alert_state_changes order by state_change_id")
    # A: 5 firings (3 in February, 2 in January: D69); B: 1; C: invoice-2 back to ok for c2 (a new
    # period of spend or usage starts without a record); D: 3 firings
    assert len(before) == 10
    p.build(as_of="2025-03-05T00:00:00Z", full_refresh=True, data_tests=False)
    assert p.query("select * from main.alert_state_changes order by state_change_id") == before


# -- webhooks -----------------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint on loopback: checks the signature itself and fails the first requests."""

    fail_first = 0
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signature = self.headers.get("Billing-Signature", "")
        parts = dict(item.split("=", 1) for item in signature.split(","))
        expected = hmac.new(SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        payload = json.loads(body)
        type(self).received.append(
            {
                "id": payload["id"],
                "valid": hmac.compare_digest(expected, parts["v1"]),
                "header_id": self.headers.get("Billing-Webhook-Id"),
                "payload": payload,
            }
        )
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(500)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.fail_first = [], 0
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver, f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()


def test_webhooks_are_signed_retried_and_delivered_once(story, receiver):
    p, _ = story
    handler, url = receiver
    firings = {
        r["state_change_id"]: r for r in p.query("select * from main.alert_state_changes where state = 'in_alarm'")
    }
    assert len(firings) == 9
    handler.fail_first = 2  # the first notification needs three attempts
    env = {"BILLING_WEBHOOK_SECRET": SECRET}
    result = cli(p, "alerts", "deliver", "--to", url, "--backoff", "0.01", env=env)
    assert result.exit_code == 0, result.output
    assert "Delivered 9 notification(s)" in result.stdout and "in 11 attempt(s)" in result.stdout
    assert all(r["valid"] and r["header_id"] == r["id"] for r in handler.received)
    assert [r["id"] for r in handler.received[:3]] == [handler.received[0]["id"]] * 3  # same id on retry
    assert {r["id"] for r in handler.received} == set(firings)
    sample = next(r["payload"] for r in handler.received if r["payload"]["type"] == "usage_threshold_reached")
    assert set(sample) == {"id", "type", "properties"}
    assert sample["properties"]["billable_metric"] == "calls" and sample["properties"]["customer_id"] == "c1"
    # delivered notifications are not sent again
    again = cli(p, "alerts", "deliver", "--to", url, env=env)
    assert again.exit_code == 0 and "Delivered 0 notification(s)" in again.stdout
    assert len(handler.received) == 11


def test_undelivered_webhooks_fail_loudly_and_are_sent_next_time(story, receiver, tmp_path):
    p, _ = story
    handler, url = receiver
    other = url.replace("/hooks", "/other")  # another destination: everything is pending there
    handler.fail_first = 10**6
    env = {"BILLING_WEBHOOK_SECRET": SECRET}
    failed = cli(p, "alerts", "deliver", "--to", other, "--max-attempts", "2", "--backoff", "0", env=env)
    assert failed.exit_code == 1 and "9 notification(s) not delivered" in failed.stderr
    assert "HTTP 500" in failed.stderr and len(handler.received) == 18
    handler.fail_first = 0
    ok = cli(p, "alerts", "deliver", "--to", other, env=env)
    assert ok.exit_code == 0 and "Delivered 9 notification(s)" in ok.stdout
    # without a secret nothing is sent
    missing = cli(p, "alerts", "deliver", "--to", str(tmp_path), env={"BILLING_WEBHOOK_SECRET": ""})
    assert missing.exit_code == 1 and "BILLING_WEBHOOK_SECRET" in missing.stderr


def test_webhooks_to_a_folder_and_signature_verification(story, tmp_path):
    from billing_cli.webhooks import verify

    p, _ = story
    result = cli(p, "alerts", "deliver", "--to", str(tmp_path), env={"BILLING_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0 and "Delivered 9 notification(s)" in result.stdout
    bodies = sorted(tmp_path.glob("*[0-9a-f].json"))
    assert len(bodies) == 9
    body = bodies[0].read_bytes()
    headers = json.loads(bodies[0].with_name(bodies[0].stem + ".headers.json").read_text())
    assert verify(SECRET, headers["Billing-Signature"], body)
    assert not verify(SECRET, headers["Billing-Signature"], body.replace(b"c1", b"c2"))
    assert not verify("another secret", headers["Billing-Signature"], body)
    t = int(headers["Billing-Signature"].split(",")[0][2:])
    assert not verify(SECRET, headers["Billing-Signature"], body, now=t + 3600)  # a replay an hour later


# -- Stripe -------------------------------------------------------------------------------------


def test_stripe_export_writes_requests_per_final_invoice(story, tmp_path):
    p, _ = story
    result = cli(p, "export", "stripe", "--period", "2025-02", "--out", str(tmp_path / "stripe"))
    assert result.exit_code == 0, result.output
    # February: c1's usage invoice (final since Mar 2) and its onboarding invoice; c2 has no Stripe account
    assert "Wrote 2 Stripe invoice request file(s)" in result.stdout and "skipped 1" in result.stdout
    assert "customer c2 is not billed through Stripe" in result.stdout
    docs = {json.loads(f.read_text())["total"]: json.loads(f.read_text()) for f in (tmp_path / "stripe").iterdir()}
    # usage: 70 calls x $0.10 = 7.00 (700 cents), all drawn from the credit (-700): total 0
    usage = docs[0]
    items = [r for r in usage["requests"] if r["path"] == "/v1/invoiceitems"]
    assert sorted(r["params"]["amount"] for r in items) == [-700, 700]
    assert all(r["params"]["customer"] == "cus_S1" and r["params"]["currency"] == "usd" for r in items)
    # the invoice is created first and each item attached to it (no other pending item is swept in)
    assert [r["path"] for r in usage["requests"][::3]] == ["/v1/invoices", "/v1/invoices/{invoice}/finalize"]
    assert usage["requests"][0]["params"]["pending_invoice_items_behavior"] == "exclude"
    assert all(r["params"]["invoice"] == "{invoice}" for r in items)
    onboarding = docs[500]
    assert [r["params"]["amount"] for r in onboarding["requests"][1:-1]] == [500]
    keys = [r["idempotency_key"] for d in docs.values() for r in d["requests"]]
    assert len(keys) == len(set(keys))
    again = cli(p, "export", "stripe", "--period", "2025-02", "--out", str(tmp_path / "again"))
    assert again.exit_code == 0
    assert sorted(f.read_text() for f in (tmp_path / "again").iterdir()) == sorted(
        f.read_text() for f in (tmp_path / "stripe").iterdir()
    )  # same keys: resending is safe
    # March is still a draft: nothing to hand off
    march = cli(p, "export", "stripe", "--period", "2025-03", "--out", str(tmp_path / "march"))
    assert "Wrote 0 Stripe invoice request file(s)" in march.stdout and "still DRAFT" in march.stdout


# -- usage statement ----------------------------------------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.fail("Chromium is needed for the statement test: `make test` installs Debian's chromium package")


def run_chromium(*args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    return subprocess.run([chromium(), *flags, *args], capture_output=True, text=True, timeout=120)


def test_statement_renders_charts_in_headless_chromium(story, tmp_path):
    p, _ = story
    page = tmp_path / "statement.html"
    result = cli(p, "statement", "c1", "--period", "2025-02", "--out", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text()
    # self-contained: no fetched resources (the SVG namespace is a name, not a request)
    assert not re.search(r"(src|href)=|https?://(?!www\.w3\.org/2000/svg)", text)
    dom = run_chromium(f"--user-data-dir={tmp_path / 'profile1'}", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    charts = {
        (m[0] or m[1]): m[2:]
        for m in re.findall(
            r'<div (?:id="([a-z-]+)" class="chart"|class="chart" data-metric="([a-z-]+)") data-rendered="(\w+)" '
            r'data-marks="(\d+)" data-series="(\d+)"',
            dom.stdout,
        )
    }
    # usage: one chart per metric; calls on two days of February (Feb 5 and Feb 18)
    assert charts["calls"] == ("true", "2", "1")
    assert "<h4>API calls</h4>" in dom.stdout  # titled by the product billing the metric, as the invoice names it
    assert dom.stdout.count('class="series"') == 2  # one polyline per chart
    # the credit: 10.00 left when February began (20.00 less January's drawdown, issued Feb 1), then
    # February's invoice (issued at its end, Mar 1) draws 7.00: two points, 3.00 left
    assert charts["balance-chart"] == ("true", "2", "1")
    assert re.search(r'Welcome credit <span class="kind">Credit</span></div><div class="value">\$3\.00<', dom.stdout)
    # the line items are on the page, in dollars with human line types: 70 calls at 0.10 = 7.00, the credit drawn
    assert re.search(
        r'<td class="desc">API calls<div class="sub">February 1 – February 28, 2025</div></td><td>Usage</td>'
        r'<td class="num">70</td><td class="num">\$0\.10</td><td class="num">\$7\.00</td>',
        dom.stdout,
    )
    assert re.search(r'<td class="desc">Welcome credit</td><td>Credit applied</td>.*?-\$7\.00<', dom.stdout)
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "statement.png"
    shot.unlink(missing_ok=True)
    taken = run_chromium(
        f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_statement_errors_are_clean(story, tmp_path):
    p, _ = story
    bad = cli(p, "statement", "c1", "--period", "2025-13", "--out", str(tmp_path / "s.html"))
    assert bad.exit_code == 1 and "is not of the form YYYY-MM" in bad.stderr or "out of range" in bad.stderr
    unknown = cli(p, "statement", "zz", "--period", "2025-02", "--out", str(tmp_path / "s.html"))
    assert unknown.exit_code == 1 and "unknown customer 'zz'" in unknown.stderr
