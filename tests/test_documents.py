"""Documents customers receive (issue 18): invoice documents (HTML, PDF), `billing invoices list|show|render`
and the usage statement, checked as a person sees them in headless Chromium (DECISIONLOG D63, D64).

One story, two builds (module fixture): a catalog with pricing and presentation groups,
a TIERED price, metrics of very different scales, a credit, a prepaid commit, a scheduled charge and
a JPY contract; two builds with a void in between (DECISIONLOG D63).

Worked by hand (contract k1, USD, net terms 15 days):
  January usage: tokens per 1M: gpt-4 (own rate 10.00) eu 1.5 -> 15.00, us 0.5 -> 5.00; default rate
    2.50: mini eu 3.0 -> 7.50, small us 2.0 -> 5.00. Requests 304,293 TIERED: 100,000 x 0.001 = 100.00
    + 204,293 x 0.0005 = 102.1465 -> 202.15. Users 5 x 5.00 = 25.00. Subtotal 259.65, credit -20.00,
    total 239.65.
  January 15 onboarding 250.00 (SCHEDULED). February 1: the prepaid commit's purchase, 100.00.
  February usage: gpt-4 eu 1.0 -> 10.00, requests 50,000 -> 50.00, users 3 -> 15.00: 75.00, all
    drawn from the commit (the credit is spent): total 0.00.
Contract k2 (JPY, no net terms: the issuer's 30 days): January 3 users x 500 = 1,500 yen.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, BillingTestProject, D

from billing_cli.cli import main
from billing_cli.currency import format_money, minor_units, round_money
from billing_cli.documents import CHROMIUM_FLAGS, chromium, list_invoices, load_issuer
from billing_cli.errors import BillingError

ARTIFACTS = REPO / "artifacts"  # screenshots and the PDF, for a person to look at (gitignored)


METRICS = """
billable_metrics:
  - {name: tokens, event_type: completion, aggregation: sum, property: tokens, group_keys: [model, region]}
  - {name: requests, event_type: api_call, aggregation: sum, property: count}
  - {name: users, event_type: login, aggregation: unique, property: user_id}
"""
ISSUER = """issuer:
  name: Acme Cloud Inc.
  address: [500 Market Street, Suite 12, "San Francisco, CA 94105", United States]
  email: billing@acme.example
  tax_id: US 12-3456789
  invoice_prefix: ACME
  net_terms_days: 30
"""
AS_OF_A = "2025-02-05T00:00:00Z"
AS_OF_B = "2025-03-05T00:00:00Z"
REQUESTS_JAN = [41_000, 38_500, 52_250, 47_043, 39_500, 44_000, 42_000]  # 304,293 in all


def _product(pid, name, kind="USAGE", metric=None, **kw):
    return {"product_id": pid, "name": name, "type": kind, "billable_metric": metric, **kw}


def _rate(card, pid, price=None, **kw):
    return {
        "rate_card_id": card,
        "product_id": pid,
        "starting_at": "2025-01-01",
        "rate_type": "FLAT",
        "price": price,
        **kw,
    }


def prepare(p) -> None:
    p.seeds(
        customers=[
            {
                "customer_id": "c1",
                "name": "Northwind Analytics GmbH",
                "billing_provider": "stripe",
                "billing_provider_customer_id": "cus_N1",
            },
            {"customer_id": "c2", "name": "Kyoto Robotics KK"},
        ],
        products=[
            _product(
                "p_input",
                "Input tokens (per 1M)",
                metric="tokens",
                quantity_conversion_factor="1000000",
                quantity_conversion_operation="DIVIDE",
                quantity_rounding_decimal_places="6",
                quantity_rounding_method="ROUND_HALF_UP",
                pricing_group_key=["model"],
                presentation_group_key=["region"],
            ),
            _product("p_requests", "API requests", metric="requests"),
            _product("p_users", "Active users", metric="users"),
            _product("p_onboarding", "Onboarding", kind="FIXED"),
            _product("p_commit", "Prepaid usage", kind="FIXED"),
        ],
        rate_cards=[
            {"rate_card_id": "rc", "name": "List"},
            {"rate_card_id": "rc_jpy", "name": "Japan", "currency": "JPY"},
        ],
        rate_card_rates=[
            _rate("rc", "p_input", "2.50"),
            _rate("rc", "p_input", "10.00", pricing_group_values={"model": "gpt-4"}),
            _rate(
                "rc", "p_requests", rate_type="TIERED", tiers=[{"size": 100000, "price": "0.001"}, {"price": "0.0005"}]
            ),
            _rate("rc", "p_users", "5.00"),
            _rate("rc_jpy", "p_users", "500"),
        ],
        contracts=[
            {
                "contract_id": "k1",
                "customer_id": "c1",
                "rate_card_id": "rc",
                "name": "Growth plan",
                "starting_at": "2025-01-01",
                "net_payment_terms_days": "15",
            },
            {
                "contract_id": "k2",
                "customer_id": "c2",
                "rate_card_id": "rc_jpy",
                "name": "Japan plan",
                "starting_at": "2025-01-01",
            },
        ],
        contract_scheduled_charges=[
            {
                "scheduled_charge_id": "sc1",
                "contract_id": "k1",
                "product_id": "p_onboarding",
                "name": "Onboarding",
                "timestamp": "2025-01-15",
                "amount": "250.00",
            }
        ],
        contract_credits=[
            {
                "credit_id": "cr1",
                "contract_id": "k1",
                "name": "Welcome credit",
                "amount": "20.00",
                "access_starting_at": "2025-01-01",
                "access_ending_before": "2026-01-01",
            }
        ],
        contract_commits=[
            {
                "commit_id": "cm1",
                "contract_id": "k1",
                "type": "PREPAID",
                "product_id": "p_commit",
                "name": "Prepaid usage",
                "amount": "100.00",
                "access_starting_at": "2025-02-01",
                "access_ending_before": "2025-06-01",
                "invoice_at": "2025-02-01",
                "priority": "2",
            }
        ],
    ).metrics(METRICS)
    (p.dir / "issuer.yml").write_text(ISSUER)


def _event(tid, customer, kind, day, **props):
    return {
        "transaction_id": tid,
        "customer_id": customer,
        "event_type": kind,
        "timestamp": f"{day}T12:00:00Z",
        "properties": props,
    }


def january_and_early_february() -> list[dict]:
    events = [
        _event("t1", "c1", "completion", "2025-01-03", tokens=1_500_000, model="gpt-4", region="eu"),
        _event("t2", "c1", "completion", "2025-01-08", tokens=500_000, model="gpt-4", region="us"),
        _event("t3", "c1", "completion", "2025-01-12", tokens=3_000_000, model="mini", region="eu"),
        _event("t4", "c1", "completion", "2025-01-20", tokens=2_000_000, model="small", region="us"),
    ]
    events += [
        _event(f"r{i}", "c1", "api_call", f"2025-01-{2 + 3 * i:02d}", count=n) for i, n in enumerate(REQUESTS_JAN)
    ]
    events += [_event(f"u{i}", "c1", "login", f"2025-01-{5 + 4 * i:02d}", user_id=f"user{i}") for i in range(5)]
    events += [_event(f"j{i}", "c2", "login", f"2025-01-{10 + i:02d}", user_id=f"kuser{i}") for i in range(3)]
    events += [
        _event("f1", "c1", "api_call", "2025-02-03", count=20_000),
        _event("fu1", "c1", "login", "2025-02-03", user_id="user0"),
    ]
    return events


def rest_of_february() -> list[dict]:
    return [
        _event("f2", "c1", "completion", "2025-02-10", tokens=1_000_000, model="gpt-4", region="eu"),
        _event("f3", "c1", "api_call", "2025-02-12", count=30_000),
        _event("fu2", "c1", "login", "2025-02-14", user_id="user1"),
        _event("fu3", "c1", "login", "2025-02-20", user_id="user2"),
        _event("m1", "c1", "api_call", "2025-03-02", count=1_000),
    ]


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Build A as of February 5 (January final), void January's usage invoice, build B as of March 5."""
    p = BillingTestProject(tmp_path_factory.mktemp("documents"))
    prepare(p)
    p.ingest(january_and_early_february(), loaded_at="2025-02-04T00:00:00Z")
    p.build(as_of=AS_OF_A)
    listed_a = list_invoices(p.db_path, p.dir)
    jan = p.query(
        "select invoice_id from main.fct_invoices where contract_id = 'k1' and invoice_type = 'USAGE' "
        "and status = 'FINALIZED'"
    )[0]["invoice_id"]
    voided = cli(p, "invoices", "void", jan, "--reason", "catalog fix", "--no-regenerate")
    assert voided.exit_code == 0, voided.output
    p.ingest(rest_of_february(), loaded_at="2025-03-04T00:00:00Z")
    p.build(as_of=AS_OF_B)
    return p, listed_a, jan


def cli(p: BillingTestProject, *args: str):
    return CliRunner().invoke(main, ["--project-dir", str(p.dir), "--db", str(p.db_path), *args])


def by_key(rows: list[dict]) -> dict:
    return {(r["invoice_id"], r["invoice_version"]): r for r in rows}


# -- numbers -------------------------------------------------------------------------------------


def test_numbers_are_sequential_and_never_change(story):
    p, listed_a, jan = story
    listed_b = list_invoices(p.db_path, p.dir)
    numbered_a = {k: r["number"] for k, r in by_key(listed_a).items() if r["number"]}
    numbered_b = {k: r["number"] for k, r in by_key(listed_b).items() if r["number"]}
    # build A stored four invoices: January's usage (k1, k2), the onboarding and the commit purchase
    assert sorted(numbered_a.values()) == ["ACME-0001", "ACME-0002", "ACME-0003", "ACME-0004"]
    # build B stored three more; the earlier ones keep their numbers
    assert {k: numbered_b[k] for k in numbered_a} == numbered_a
    assert sorted(numbered_b.values()) == [f"ACME-{n:04d}" for n in range(1, 8)]
    # the voided January keeps its number; its regenerated version (2) is a new invoice with the next one
    old, new = by_key(listed_b)[(jan, 1)], by_key(listed_b)[(jan, 2)]
    assert (old["status"], old["number"]) == ("VOID", numbered_a[(jan, 1)])
    assert new["status"] == "FINALIZED" and new["number"] > max(numbered_a.values())
    # numbers follow the order invoices were stored in
    stored = p.query(
        "select invoice_id, invoice_version from main.invoice_store where record_type = 'invoice' "
        "order by stored_at, issued_at, invoice_id, invoice_version"
    )
    assert [numbered_b[(r["invoice_id"], r["invoice_version"])] for r in stored] == sorted(numbered_b.values())
    # drafts have no number
    drafts = [r for r in listed_b if r["status"] == "DRAFT"]
    assert len(drafts) == 2 and all(r["number"] is None for r in drafts)


def test_invoices_list_and_show(story, tmp_path):
    p, _, jan = story
    listed = cli(p, "invoices", "list")
    assert listed.exit_code == 0, listed.output
    rows = listed.stdout.splitlines()[2:]
    assert [r.split()[0] for r in rows] == [f"ACME-{n:04d}" for n in range(1, 8)] + ["DRAFT", "DRAFT"]
    assert "Void" in rows[2] and jan in rows[2] and "¥1,500" in listed.stdout
    only_c2 = cli(p, "invoices", "list", "--customer", "c2")
    assert only_c2.exit_code == 0 and "Northwind" not in only_c2.stdout and "Kyoto Robotics KK" in only_c2.stdout

    shown = cli(p, "invoices", "show", jan)  # an invoice id: its current version, the regenerated one
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert text.startswith("Invoice ACME-0005 (Issued), Usage invoice")
    assert "Date of issue  February 1, 2025" in text and "Date due       February 16, 2025" in text
    for expected in (
        "Input tokens (per 1M) (model: gpt-4, region: eu)",
        "Input tokens (per 1M) (model: gpt-4, region: us)",
        "Input tokens (per 1M) (model: other, region: eu)",
        "Input tokens (per 1M) (model: other, region: us)",
        "Tier 1: up to 100,000",
        "Tier 2: over 100,000",
        "$102.1465",
        "304,293",
        "$202.15",
    ):
        assert expected in text, expected
    # charges before credits; then the totals
    assert text.index("Active users") < text.index("Welcome credit") < text.index("Subtotal")
    totals = [line.split() for line in text.splitlines() if line.strip().startswith(("Subtotal", "Credits", "Total"))]
    assert totals == [["Subtotal", "$259.65"], ["Credits", "-$20.00"], ["Total", "$239.65"]]

    void = cli(p, "invoices", "show", "acme-0003")  # a number, in any case: that version
    assert void.exit_code == 0 and void.stdout.startswith("Invoice ACME-0003 (Void)")
    assert re.search(r"Amount due +\$0\.00", void.stdout)
    draft_id = p.query("select invoice_id from main.fct_invoices where status = 'DRAFT' and contract_id = 'k1'")[0][
        "invoice_id"
    ]
    draft = cli(p, "invoices", "show", draft_id)
    assert draft.exit_code == 0 and draft.stdout.startswith("Invoice DRAFT (Draft)")
    # a draft renders too (a preview of the coming invoice): no number, no stored version
    preview = tmp_path / "draft.html"
    rendered = cli(p, "invoices", "render", draft_id, "--format", "html", "--out", str(preview))
    assert rendered.exit_code == 0, rendered.output
    html = preview.read_text()
    assert "Draft" in html and f"invoice id {draft_id}" in html and "version" not in html.split("<footer>")[1]
    unknown = cli(p, "invoices", "show", "ACME-9999")
    assert unknown.exit_code == 1 and "no invoice 'ACME-9999'" in unknown.stderr


def test_due_date_is_the_contracts_else_the_issuers_net_terms(story):
    p, _, _ = story
    # k2 sets no net payment terms: issued February 1 + the issuer's 30 days
    shown = cli(p, "invoices", "show", "ACME-0002")
    assert "Date of issue  February 1, 2025" in shown.stdout and "Date due       March 3, 2025" in shown.stdout
    assert "¥500" in shown.stdout and re.search(r"Total +¥1,500\n", shown.stdout)
    (p.dir / "issuer.yml").write_text(ISSUER.replace("net_terms_days: 30", "net_terms_days: 10"))
    try:
        assert "Date due       February 11, 2025" in cli(p, "invoices", "show", "ACME-0002").stdout
        # k1 sets 15 days: the issuer's terms do not apply
        assert "Date due       February 16, 2025" in cli(p, "invoices", "show", "ACME-0005").stdout
    finally:
        (p.dir / "issuer.yml").write_text(ISSUER)


def test_issuer_defaults_and_errors(tmp_path):
    issuer = load_issuer(tmp_path)
    assert (issuer.invoice_prefix, issuer.net_terms_days, issuer.address) == ("INV", 30, [])
    (tmp_path / "issuer.yml").write_text("issuer:\n  name: X\n  invoice_prefix: x-eu\n")
    assert load_issuer(tmp_path).invoice_prefix == "X-EU"
    for text, message in (
        ("issuer:\n  net_terms_days: -1\n", "net_terms_days"),
        ("issuer:\n  invoice_prefix: 'A B'\n", "invoice_prefix"),
        ("issuer:\n  logo: x.png\n", "unknown key(s) logo"),
        ("- a\n", "expected a mapping"),
    ):
        (tmp_path / "issuer.yml").write_text(text)
        with pytest.raises(BillingError, match=re.escape(message)):
            load_issuer(tmp_path)


def test_currency_formatting_is_exact():
    assert [minor_units(c) for c in ("USD", "jpy", "KRW", "KWD", "BHD", "EUR")] == [2, 0, 0, 3, 3, 2]
    assert format_money(D("304293.83"), "USD") == "$304,293.83"
    assert format_money(D("-20.0000000000"), "USD") == "-$20.00"
    assert format_money(D("1500.00"), "JPY") == "¥1,500"
    assert format_money(D("1500.5"), "JPY") == "¥1,500.5"  # never rounded away
    assert format_money(D("12.3"), "KWD") == "KWD\u00a012.300"
    assert format_money(D("0.0005"), "EUR") == "€0.0005"
    assert format_money(D("0"), "CHF") == "CHF\u00a00.00"
    assert format_money(D("123456789012345678901234.01"), "USD") == "$123,456,789,012,345,678,901,234.01"
    assert round_money(D("102.145"), "USD") == D("102.15") and round_money(D("2.5"), "JPY") == D("3")
    with pytest.raises(TypeError):
        format_money(0.1, "USD")


# -- in the browser ------------------------------------------------------------------------------

# Appended to a copy of a page: after its own script ran, measure what a person sees and write it
# into the page as JSON (read back from --dump-dom).
LAYOUT_CHECK = """<script>
(function () {
  var problems = [];
  function r(e) { return e.getBoundingClientRect(); }
  function name(e) { return e.tagName.toLowerCase() + ' "' + (e.textContent || '').trim().slice(0, 50) + '"'; }
  function inside(a, b) { return a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5
                                 && a.bottom <= b.bottom + 0.5; }
  // no text wider than its box
  document.querySelectorAll('h1, h2, h3, h4, p, dt, dd, td, th, div, span.status').forEach(function (e) {
    if (e.scrollWidth > e.clientWidth + 1) problems.push('overflows its box: ' + name(e));
  });
  // every box inside the page's width
  var page = r(document.querySelector('__ROOT__'));
  document.querySelectorAll('__ROOT__ *').forEach(function (e) {
    var b = r(e);
    if ((b.width || b.height) && (b.left < page.left - 0.5 || b.right > page.right + 0.5))
      problems.push('outside the page: ' + name(e));
  });
  // chart text inside its chart and not on top of other text
  document.querySelectorAll('svg').forEach(function (svg) {
    var texts = Array.prototype.slice.call(svg.querySelectorAll('text'));
    texts.forEach(function (t, i) {
      if (!inside(r(t), r(svg))) problems.push('cut off: ' + name(t));
      texts.slice(i + 1).forEach(function (u) {
        var a = r(t), b = r(u);
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
          problems.push('text overlaps: ' + name(t) + ' and ' + name(u));
      });
    });
  });
  var charts = Array.prototype.map.call(document.querySelectorAll('.chart'), function (c) {
    return {metric: c.getAttribute('data-metric') || c.id, rendered: c.getAttribute('data-rendered'),
            marks: +c.getAttribute('data-marks'), series: +c.getAttribute('data-series'),
            line: Array.prototype.map.call(c.querySelectorAll('polyline.series'), function (l) {
              return l.getAttribute('points').trim().split(' ').length; }),
            legend: Array.prototype.map.call(c.querySelectorAll('.legend span'), function (s) { return s.textContent; })};
  });
  var lines = Array.prototype.map.call(document.querySelectorAll('tr.line'), function (tr) {
    return {id: tr.getAttribute('data-line-item-id'), type: tr.getAttribute('data-line-type'),
            cells: Array.prototype.map.call(tr.cells, function (c) { return c.innerText.trim(); })};
  });
  var out = document.createElement('pre');
  out.id = 'layout-report';
  out.textContent = JSON.stringify({problems: problems, charts: charts, lines: lines});
  document.body.appendChild(out);
})();
</script>"""


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium as the PDF printer runs it (billing_cli/documents.py), with its own profile."""
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def look(page: Path, root: str, tmp_path: Path, shot_name: str, width: int = 1100) -> dict:
    """Open `page` in headless Chromium at `width`: the layout report, and a screenshot kept in
    tmp_path and copied to artifacts/ for a person to look at."""
    checked = tmp_path / f"checked-{page.name}"
    checked.write_text(page.read_text().replace("</body>", LAYOUT_CHECK.replace("__ROOT__", root) + "</body>"))
    dom = run_chromium(tmp_path / "profile-dom", f"--window-size={width},2000", "--dump-dom", checked.as_uri())
    report = re.search(r'<pre id="layout-report">(.*?)</pre>', dom.stdout, re.S)
    assert report, dom.stdout[-2000:]
    shot = tmp_path / shot_name
    run_chromium(tmp_path / "profile-shot", f"--window-size={width},2000", f"--screenshot={shot}", page.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / shot_name)
    return json.loads(html.unescape(report.group(1)))


def test_invoice_document_in_chromium(story, tmp_path):
    p, _, jan = story
    page = tmp_path / "invoice.html"
    result = cli(p, "invoices", "render", "ACME-0005", "--format", "html", "--out", str(page))
    assert result.exit_code == 0, result.output
    assert "Wrote invoice ACME-0005" in result.stdout and "Note:" not in result.stderr
    text = page.read_text()
    assert not re.search(r"(src|href)=|https?://|<script", text)  # self-contained: nothing fetched, no script
    report = look(page, "#invoice", tmp_path, "invoice-ACME-0005.png")
    assert report["problems"] == []
    stored = p.query(
        "select line_item_id from main.invoice_store where record_type = 'line' and invoice_id = ? "
        "and invoice_version = 2",
        [jan],
    )
    assert sorted(line["id"] for line in report["lines"]) == sorted(r["line_item_id"] for r in stored)
    # charges first, the credit last; amounts in dollars
    assert [line["type"] for line in report["lines"]][-1] == "applied_credit"
    requests = next(line for line in report["lines"] if line["cells"][0].startswith("API requests"))
    assert requests["cells"][1:] == ["304,293", "", "$202.15"]
    for expected in (
        "Invoice number",
        "ACME-0005",
        "Date of issue",
        "February 1, 2025",
        "Date due",
        "February 16, 2025",
        "Bill to",
        "Northwind Analytics GmbH",
        "Acme Cloud Inc.",
        "Tax ID US 12-3456789",
        "Tier 2: over 100,000",
        "$102.1465",
        "Subtotal",
        "$259.65",
        "-$20.00",
        "Amount due",
        "$239.65",
    ):
        assert expected in text, expected
    # an issuer.yml without a name (as `billing init` writes it) renders "Your Company", and says so
    (p.dir / "issuer.yml").write_text("issuer:\n  invoice_prefix: ACME\n")
    try:
        unnamed = cli(p, "invoices", "render", "ACME-0005", "--out", str(tmp_path / "unnamed.html"))
    finally:
        (p.dir / "issuer.yml").write_text(ISSUER)
    assert unnamed.exit_code == 0, unnamed.output
    assert "Your Company" in (tmp_path / "unnamed.html").read_text()
    assert 'Note: the issuer reads "Your Company"' in unnamed.stderr and "issuer.yml" in unnamed.stderr


def test_invoice_pdf(story, tmp_path):
    p, _, _ = story
    pdf = tmp_path / "invoice.pdf"
    result = cli(p, "invoices", "render", "ACME-0002", "--format", "pdf", "--out", str(pdf))
    assert result.exit_code == 0, result.output
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "invoice-ACME-0002.pdf")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "ACME-0002" in text and "¥1,500" in text
    else:  # the document's title (Invoice ACME-0002 - issuer) is the PDF's
        assert b"/Title (Invoice ACME-0002 - Acme Cloud Inc.)" in data
    bad = cli(p, "invoices", "render", "ACME-0002", "--format", "pdf", "--out", str(tmp_path / "x.html"))
    assert bad.exit_code == 1 and "should end in .pdf" in bad.stderr


def test_statement_in_chromium(story, tmp_path):
    p, _, _ = story
    page = tmp_path / "statement.html"
    result = cli(p, "statement", "c1", "--period", "2025-01", "--out", str(page))
    assert result.exit_code == 0, result.output
    report = look(page, "body", tmp_path, "statement-c1-2025-01.png")
    assert report["problems"] == []
    charts = {c["metric"]: c for c in report["charts"]}
    # one chart per metric, each drawn, tokens split by its group values
    assert set(charts) == {"requests", "tokens", "users", "balance-chart"}
    assert all(c["rendered"] == "true" for c in charts.values())
    assert (charts["requests"]["marks"], charts["requests"]["series"]) == (7, 1)
    # the line has a point on each of January's 31 days: zero on the 24 without requests, unmarked
    assert charts["requests"]["line"] == [31]
    assert charts["tokens"]["legend"] == [
        "model: gpt-4, region: eu",
        "model: gpt-4, region: us",
        "model: mini, region: eu",
        "model: small, region: us",
    ]
    assert (charts["users"]["marks"], charts["users"]["series"]) == (5, 1)
    text = page.read_text()
    # the period as inclusive dates; the credit's remaining balance after January's invoice
    assert "January 1 – January 31, 2025" in text
    assert re.search(r"Welcome credit <span class=kind>Credit</span></div><div class=value>\$0\.00<", text)
    # every line of the month's invoices, charges before credits, human line types
    lines = p.query(
        "select l.line_item_id from main.fct_invoice_line_items as l join main.fct_invoices as i using (invoice_id) "
        "where i.customer_id = 'c1' and ((i.invoice_type = 'USAGE' and i.period_starting_at = '2025-01-01') "
        "or (i.invoice_type = 'SCHEDULED' and i.issued_at < '2025-02-01'))"
    )
    assert len(report["lines"]) == len(lines) == 8
    types = [line["cells"][1] for line in report["lines"]]
    assert types[-1] == "Credit applied" and "applied_credit" not in types and "Usage (graduated tiers)" in types


def test_layout_check_sees_what_is_wrong(tmp_path):
    """The layout check itself: a label cut off at the chart's edge (the old statement's "04293.83"),
    text over text, and a cell whose text runs out of its box are all reported."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><html><body><main id="page" style="width: 400px">'
        '<table style="table-layout: fixed; width: 200px"><tr><td style="white-space: nowrap; width: 60px">'
        "304,293.83 304,293.83 304,293.83</td><td></td></tr></table>"
        '<svg viewBox="0 0 200 60" width="200" height="60"><text x="20" y="20" text-anchor="end">304293.83</text>'
        '<text x="100" y="40">requests</text><text x="110" y="40">users</text></svg></main></body></html>'
    )
    problems = look(page, "#page", tmp_path, "layout-check-broken.png")["problems"]
    assert any(p.startswith('overflows its box: td "304,293.83') for p in problems), problems
    assert 'cut off: text "304293.83"' in problems
    assert 'text overlaps: text "requests" and text "users"' in problems
