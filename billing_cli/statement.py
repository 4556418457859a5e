"""`billing statement`: a customer's usage statement for a month as one self-contained HTML page.

The page holds its data as JSON and draws two SVG charts with inline script (no network, no
libraries): usage per billable metric per day, and each balance's remaining amount over time (the
burn-down). It also lists the month's invoices with their line items. Each chart marks itself
`data-rendered="true"` with the number of marks drawn, which the browser test reads.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from .db import connect
from .errors import BillingError
from .export import _text_number, period_bounds, period_rows
from .outputs import check_target, write_text
from .status import find_customer

USAGE = """
select usage_date, billable_metric, sum(quantity) as quantity
from main.fct_usage_daily
where customer_id = ? and usage_date >= ? and usage_date < ?
group by usage_date, billable_metric
order by billable_metric, usage_date
"""
LEDGER = """
select b.balance_id, b.name, b.balance_type, l.effective_at, l.entry_type, l.amount
from main.fct_balance_ledger as l
join main.fct_balances as b using (balance_id)
where b.customer_id = ? and l.effective_at < ?
order by b.drawdown_rank, l.effective_at, l.entry_type
"""


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)  # chart coordinates only; the tables show exact text
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def statement_data(db_path: Path, customer_id: str, period: str) -> dict:
    start, end = period_bounds(period)
    con = connect(db_path, read_only=True)
    try:
        customer = find_customer(con, customer_id)
        usage = con.execute(USAGE, [customer_id, start.date(), end.date()]).fetchall()
        ledger = con.execute(LEDGER, [customer_id, end]).fetchall()
    finally:
        con.close()
    rows = [r for r in period_rows(db_path, period)[0] if r["customer_id"] == customer_id]
    invoices: dict[str, dict] = {}
    for r in rows:
        invoice = invoices.setdefault(r["invoice_id"], {**r, "lines": []})
        if r["line_item_id"] is not None:
            invoice["lines"].append(r)
    series: dict[str, list] = {}
    for day, metric, quantity in usage:
        series.setdefault(metric, []).append([day.isoformat(), quantity])
    balances: dict[str, dict] = {}
    for balance_id, name, kind, at, _entry, amount in ledger:
        b = balances.setdefault(balance_id, {"name": name, "type": kind, "points": [], "remaining": Decimal(0)})
        b["remaining"] += amount
        b["points"].append([at.isoformat(), b["remaining"]])
    return {
        "customer_id": customer[0],
        "customer_name": customer[1],
        "period": period,
        "days": (end - start).days,
        "start": start.date().isoformat(),
        "usage": series,
        "balances": list(balances.values()),
        "invoices": list(invoices.values()),
    }


def _money(value) -> str:
    return "" if value is None else format(value, "f")


def _invoice_html(invoice: dict) -> str:
    e = html.escape
    kind = invoice["invoice_type"]
    when = (
        f"{invoice['period_starting_at']:%Y-%m-%d} to {invoice['period_ending_before']:%Y-%m-%d}"
        if kind == "USAGE"
        else f"issued {invoice['issued_at']:%Y-%m-%d}"
    )
    lines = "".join(
        f"<tr><td>{e(line['name'] or line['line_type'])}</td><td>{e(line['line_type'])}</td>"
        f"<td class=num>{'' if line['quantity'] is None else e(_text_number(line['quantity']))}</td>"
        f"<td class=num>{'' if line['unit_price'] is None else e(_text_number(line['unit_price']))}</td>"
        f"<td class=num>{e(_money(line['amount']))}</td></tr>"
        for line in invoice["lines"]
    )
    return (
        f"<section class=invoice><h3>{e(kind.title())} invoice, {e(when)} "
        f"<span class='status {e(invoice['status'].lower())}'>{e(invoice['status'])}</span></h3>"
        f"<table><thead><tr><th>Line</th><th>Type</th><th class=num>Quantity</th><th class=num>Unit price</th>"
        f"<th class=num>Amount ({e(invoice['currency'])})</th></tr></thead><tbody>{lines}</tbody>"
        f"<tfoot><tr><td colspan=4>Total</td><td class=num>{e(_money(invoice['total']))}</td></tr></tfoot>"
        f"</table></section>"
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Usage statement: __TITLE__</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #1d2433; }
h1 { margin-bottom: 0; } .sub { color: #5b6478; margin-top: .2em; }
section { margin: 1.5em 0; } svg { width: 100%; height: auto; background: #fafbfd; border: 1px solid #e3e7ef; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .3em .5em; border-bottom: 1px solid #e3e7ef; text-align: left; }
.num { text-align: right; font-variant-numeric: tabular-nums; } tfoot td { font-weight: 600; }
.status { font-size: .75em; padding: .1em .5em; border-radius: 1em; background: #e3e7ef; }
.status.finalized { background: #d4f0dc; } .legend span { margin-right: 1.2em; }
.legend i { display: inline-block; width: .8em; height: .8em; margin-right: .3em; }
</style></head>
<body>
<h1>Usage statement</h1>
<p class=sub>__TITLE__</p>
<section><h2>Usage over time</h2><div id="usage-chart" class="chart" data-rendered="false"></div></section>
<section><h2>Balances</h2><div id="balance-chart" class="chart" data-rendered="false"></div></section>
<section><h2>Invoices and line items</h2>__INVOICES__</section>
<script type="application/json" id="statement-data">__DATA__</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('statement-data').textContent);
  var colors = ['#2f6fde', '#e0782f', '#2a9d62', '#b23a8f', '#7a5af5', '#c9a227', '#1b9aaa'];
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function chart(target, series, xMin, xMax, title) {
    var W = 900, H = 300, L = 60, R = 45, T = 20, B = 40, marks = 0;
    var svg = el('svg', {viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title});
    var yMax = 0;
    series.forEach(function (s) { s.points.forEach(function (p) { yMax = Math.max(yMax, p[1]); }); });
    yMax = yMax > 0 ? yMax * 1.1 : 1;
    function x(t) { return L + (W - L - R) * (t - xMin) / Math.max(xMax - xMin, 1); }
    function y(v) { return H - B - (H - T - B) * v / yMax; }
    el('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#8a93a6'}, svg);
    el('line', {x1: L, y1: T, x2: L, y2: H - B, stroke: '#8a93a6'}, svg);
    for (var i = 0; i <= 4; i++) {
      var v = yMax * i / 4, label = el('text', {x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11}, svg);
      label.textContent = (Math.round(v * 100) / 100).toString();
    }
    [xMin, (xMin + xMax) / 2, xMax].forEach(function (t) {
      var label = el('text', {x: x(t), y: H - B + 16, 'text-anchor': 'middle', 'font-size': 11}, svg);
      label.textContent = new Date(t).toISOString().slice(0, 10);
    });
    var legend = document.createElement('div');
    legend.className = 'legend';
    series.forEach(function (s, n) {
      var color = colors[n % colors.length];
      var pts = s.points.map(function (p) { return x(p[0]) + ',' + y(p[1]); }).join(' ');
      el('polyline', {points: pts, fill: 'none', stroke: color, 'stroke-width': 2, 'class': 'series'}, svg);
      s.points.forEach(function (p) {
        el('circle', {cx: x(p[0]), cy: y(p[1]), r: 3, fill: color, 'class': 'mark'}, svg); marks++;
      });
      var item = document.createElement('span');
      item.innerHTML = '<i style="background:' + color + '"></i>';
      item.appendChild(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    if (!series.length) {
      var empty = el('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#8a93a6'}, svg);
      empty.textContent = 'Nothing to show for this period';
    }
    target.appendChild(svg);
    target.appendChild(legend);
    target.setAttribute('data-marks', marks);
    target.setAttribute('data-series', series.length);
    target.setAttribute('data-rendered', 'true');
  }
  var start = Date.parse(data.start + 'T00:00:00Z'), end = start + data.days * 86400000;
  var usage = Object.keys(data.usage).map(function (m) {
    return {name: m, points: data.usage[m].map(function (p) { return [Date.parse(p[0] + 'T00:00:00Z'), p[1]]; })};
  });
  chart(document.getElementById('usage-chart'), usage, start, end - 86400000, 'Usage per day');
  var balances = data.balances.map(function (b) {
    return {name: b.name + ' (' + b.type + ')',
            points: b.points.map(function (p) { return [Date.parse(p[0] + 'Z'), p[1]]; })};
  });
  var bMin = start, bMax = end;
  balances.forEach(function (b) { b.points.forEach(function (p) { bMin = Math.min(bMin, p[0]); }); });
  chart(document.getElementById('balance-chart'), balances, bMin, bMax, 'Remaining balance');
})();
</script>
</body></html>
"""


def render_statement(data: dict) -> str:
    title = f"{data['customer_name']} ({data['customer_id']}), {data['period']}"
    invoices = "".join(_invoice_html(i) for i in data["invoices"]) or "<p>No invoices in this period.</p>"
    payload = json.dumps({k: v for k, v in data.items() if k != "invoices"}, default=_json_default)
    payload = payload.replace("</", "<\\/")  # keep the JSON inside its script element
    return PAGE.replace("__TITLE__", html.escape(title)).replace("__INVOICES__", invoices).replace("__DATA__", payload)


def write_statement(db_path: Path, customer_id: str, period: str, out: str | Path) -> Path:
    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm"):
        raise BillingError(f"--out {out}: should end in .html")
    if not path.parent.is_dir():
        raise BillingError(f"--out {out}: folder {path.parent} does not exist")
    check_target(path)
    return write_text(path, render_statement(statement_data(db_path, customer_id, period)))
