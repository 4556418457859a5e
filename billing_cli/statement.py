"""`billing statement`: a customer's usage statement for a month as one self-contained HTML page.

The page holds its data as JSON and draws its SVG charts with inline script (no network, no
libraries): one small chart per billable metric with its own axis and unit (a metric in the
hundreds of thousands does not flatten one in single digits), a series per group value, and each
balance's remaining amount over the period. Axis labels are measured once drawn and the plot is
moved right of the widest, so no label is cut off. Above the charts, each balance's remaining amount
at the end of the period; below them, the month's invoices with their lines as on the invoice
document (billing_cli/documents.py): charges first, then credits and commits, human line types,
names with their group values, periods as inclusive dates. Each chart marks itself
`data-rendered="true"` with the number of marks and series drawn, which the browser test reads.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from .currency import format_money, format_number
from .db import connect, has_table
from .documents import (
    BALANCE_LINE_TYPES,
    LINE_TYPES,
    STATUS_NAMES,
    group_text,
    load_issuer,
    range_text,
    stored_numbers,
)
from .errors import BillingError
from .export import period_bounds, period_rows
from .outputs import check_target, write_text
from .status import find_customer

USAGE = """
select usage_date, billable_metric, group_values, sum(quantity) as quantity
from main.fct_usage_daily
where customer_id = ? and usage_date >= ? and usage_date < ?
group by usage_date, billable_metric, group_values
order by billable_metric, group_values nulls first, usage_date
"""
# Each balance's entries up to the end of the period, the period's own invoice included (it is issued
# at the period's end; a balance that only starts then is not shown), in its rate card's currency.
LEDGER = """
select b.balance_id, b.name, b.balance_type, l.effective_at, l.entry_type, l.amount, coalesce(rc.currency, 'USD')
from main.fct_balance_ledger as l
join main.fct_balances as b using (balance_id)
left join main.stg_contracts as k on b.contract_id = k.contract_id
left join main.stg_rate_cards as rc on k.rate_card_id = rc.rate_card_id
where b.customer_id = ? and (l.effective_at < ? or (l.effective_at = ? and l.entry_type <> 'SEGMENT_START'))
order by b.drawdown_rank, l.effective_at, l.entry_type
"""
BALANCE_TYPES = {"CREDIT": "Credit", "PREPAID_COMMIT": "Prepaid commit", "POSTPAID_COMMIT": "Postpaid commit"}


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)  # chart coordinates only; the tables and figures show exact text
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _series_name(group_values: str | None) -> str:
    try:
        values = json.loads(group_values) if group_values else {}
    except ValueError:
        return group_values or "all"
    return ", ".join(f"{k}: {v}" for k, v in values.items()) if isinstance(values, dict) and values else "all"


def statement_data(db_path: Path, customer_id: str, period: str, project_dir: Path | None = None) -> dict:
    start, end = period_bounds(period)
    con = connect(db_path, read_only=True)
    try:
        customer = find_customer(con, customer_id)
        usage = con.execute(USAGE, [customer_id, start.date(), end.date()]).fetchall()
        ledger = con.execute(LEDGER, [customer_id, end, end]).fetchall()
        keys = {
            pid: json.loads(k) if k else []
            for pid, k in con.execute("select product_id, pricing_group_key from main.stg_products").fetchall()
        }
        # a chart is titled by the products that bill its metric (what the invoice calls them)
        titles: dict[str, list[str]] = {}
        for metric, name in con.execute(
            "select billable_metric, coalesce(name, product_id) from main.stg_products "
            "where billable_metric is not null order by 2"
        ).fetchall():
            titles.setdefault(metric, []).append(name)
        numbers = stored_numbers(con, load_issuer(project_dir).invoice_prefix) if project_dir else {}
        voided = {k for k, (_n, void) in numbers.items() if void} if has_table(con, "main", "invoice_store") else set()
    finally:
        con.close()
    rows = [r for r in period_rows(db_path, period)[0] if r["customer_id"] == customer_id]
    invoices: dict[str, dict] = {}
    for r in rows:
        invoice = invoices.setdefault(r["invoice_id"], {**r, "lines": []})
        if r["line_item_id"] is not None:
            invoice["lines"].append({**r, "group_text": group_text(keys, r)})
    for invoice in invoices.values():
        key = (invoice["invoice_id"], invoice["invoice_version"])
        invoice["number"] = numbers.get(key, (None, False))[0]
        invoice["is_void"] = key in voided
    metrics: dict[str, dict[str, list]] = {}
    for day, metric, group_values, quantity in usage:
        metrics.setdefault(metric, {}).setdefault(_series_name(group_values), []).append([day.isoformat(), quantity])
    balances: dict[str, dict] = {}
    for balance_id, name, kind, at, _entry, amount, currency in ledger:
        b = balances.setdefault(
            balance_id,
            {
                "name": name,
                "type": BALANCE_TYPES.get(kind, kind),
                "currency": currency,
                "points": [],
                "remaining": Decimal("0.00"),
            },
        )
        b["remaining"] += amount
        if at <= start:  # what was left when the period began: one point at its start
            b["points"] = [[start.isoformat(), b["remaining"]]]
        else:
            b["points"].append([at.isoformat(), b["remaining"]])
    return {
        "customer_id": customer[0],
        "customer_name": customer[1],
        "period": period,
        "period_text": range_text(start, end),
        "days": (end - start).days,
        "start": start.date().isoformat(),
        "usage": [
            {
                "metric": m,
                "title": " / ".join(titles.get(m, [])) or m,
                "series": [{"name": n, "points": p} for n, p in s.items()],
            }
            for m, s in metrics.items()
        ],
        "balances": list(balances.values()),
        "invoices": list(invoices.values()),
    }


def _line_html(line: dict, currency: str, usage_invoice: bool) -> str:
    e = html.escape
    balance = line["line_type"] in BALANCE_LINE_TYPES
    name = line["name"] or LINE_TYPES.get(line["line_type"], line["line_type"])
    if line["group_text"]:
        name = f"{name} ({line['group_text']})"
    when = range_text(line["starting_at"], line["ending_before"]) if usage_invoice and not balance else ""
    quantity = "" if line["quantity"] is None or balance else format_number(line["quantity"])
    price = "" if line["unit_price"] is None or balance else format_money(line["unit_price"], currency)
    tiered = line["line_type"] == "usage" and line["unit_price"] is None and line["quantity"] is not None
    return (
        f"<tr class=line data-line-type='{e(line['line_type'])}'><td class=desc>{e(name)}"
        f"{f'<div class=sub>{e(when)}</div>' if when else ''}</td>"
        f"<td>{e(LINE_TYPES.get(line['line_type'], line['line_type']))}{' (graduated tiers)' if tiered else ''}</td>"
        f"<td class=num>{e(quantity)}</td><td class=num>{e(price)}</td>"
        f"<td class=num>{e(format_money(line['amount'], currency))}</td></tr>"
    )


def _invoice_html(invoice: dict) -> str:
    e = html.escape
    kind = invoice["invoice_type"]
    currency = invoice["currency"]
    when = (
        range_text(invoice["period_starting_at"], invoice["period_ending_before"])
        if kind == "USAGE"
        else f"issued {range_text(invoice['issued_at'], None)}"
    )
    status = "VOID" if invoice["is_void"] else invoice["status"]
    charges = [li for li in invoice["lines"] if li["line_type"] not in BALANCE_LINE_TYPES]
    drawn = [li for li in invoice["lines"] if li["line_type"] in BALANCE_LINE_TYPES]
    order = list(LINE_TYPES)
    charges.sort(
        key=lambda li: (
            order.index(li["line_type"]) if li["line_type"] in order else 99,
            li["name"] or "",
            li["group_text"],
        )
    )
    rows = "".join(_line_html(li, currency, kind == "USAGE") for li in charges + drawn)
    number = f"{invoice['number']} · " if invoice["number"] else ""
    return (
        f"<section class=invoice><h3>{e(number)}{e(kind.title())} invoice, {e(when)} "
        f"<span class='status {e(status.lower())}'>{e(STATUS_NAMES.get(status, status))}</span></h3>"
        f"<table><colgroup><col class=c-desc><col class=c-type><col class=c-num><col class=c-num><col class=c-num>"
        f"</colgroup><thead><tr><th>Line</th><th>Type</th><th class=num>Quantity</th><th class=num>Unit price</th>"
        f"<th class=num>Amount</th></tr></thead><tbody>{rows}</tbody>"
        f"<tfoot><tr><td colspan=4>Total ({e(currency)})</td>"
        f"<td class=num>{e(format_money(invoice['total'], currency))}</td></tr></tfoot>"
        f"</table></section>"
    )


def _balances_html(balances: list[dict]) -> str:
    e = html.escape
    if not balances:
        return "<p>No credits or commits.</p>"
    cards = "".join(
        f"<div class=figure><div class=label>{e(b['name'])} <span class=kind>{e(b['type'])}</span></div>"
        f"<div class=value>{e(format_money(b['remaining'], b['currency']))}</div>"
        f"<div class=sub>remaining after the period's invoice</div></div>"
        for b in balances
    )
    return f"<div class=figures id=remaining-balances>{cards}</div>"


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Usage statement: __TITLE__</title>
<style>
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 2em auto; max-width: 62em;
       padding: 0 1em; color: #1d2433; }
h1 { margin-bottom: 0; } .sub { color: #5b6478; font-size: .85em; } p.sub { margin-top: .2em; font-size: 1em; }
section { margin: 1.5em 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(26em, 1fr)); gap: 1em; }
.chart h4 { margin: 0 0 .3em; font-size: 1em; } .chart svg { width: 100%; height: auto; display: block;
       background: #fafbfd; border: 1px solid #e3e7ef; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
col.c-desc { width: 36%; } col.c-type { width: 19%; } col.c-num { width: 15%; }
th, td { padding: .3em .5em; border-bottom: 1px solid #e3e7ef; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
.num { text-align: right; font-variant-numeric: tabular-nums; } tfoot td { font-weight: 600; }
.status { font-size: .75em; padding: .1em .5em; border-radius: 1em; background: #e3e7ef; }
.status.finalized { background: #d4f0dc; } .status.void { background: #fde2e1; }
.legend { font-size: .85em; } .legend span { margin-right: 1.2em; display: inline-block; }
.legend i { display: inline-block; width: .8em; height: .8em; margin-right: .3em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; margin-bottom: 1em; }
.figure { border: 1px solid #e3e7ef; border-radius: .4em; padding: .6em 1em; min-width: 14em; max-width: 100%; }
.figure .label { font-weight: 600; overflow-wrap: anywhere; } .figure .kind { color: #5b6478; font-weight: 400; }
.figure .value { font-size: 1.6em; font-weight: 700; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
</style></head>
<body>
<h1>Usage statement</h1>
<p class=sub>__TITLE__</p>
<section><h2>Usage per day</h2><div id="usage-charts" class="charts"></div></section>
<section><h2>Balances</h2>__BALANCES__<div class="charts"><div id="balance-chart" class="chart" data-rendered="false">
<h4>Remaining balance</h4></div></div></section>
<section><h2>Invoices and line items</h2>__INVOICES__</section>
<script type="application/json" id="statement-data">__DATA__</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('statement-data').textContent);
  var colors = ['#2f6fde', '#e0782f', '#2a9d62', '#b23a8f', '#7a5af5', '#c9a227', '#1b9aaa'];
  var NS = 'http://www.w3.org/2000/svg', DAY = 86400000;
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function niceStep(max) {  // 1, 2 or 5 times a power of ten: about four steps up to max
    var raw = max / 4, power = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
  }
  function label(v, step) {
    var places = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
    return v.toLocaleString('en-US', {minimumFractionDigits: places, maximumFractionDigits: places});
  }
  function day(t) { var d = new Date(t); return MONTHS[d.getUTCMonth()] + ' ' + d.getUTCDate(); }
  // A line chart of `series` ([{name, points: [[t, v]]}]) into `target`, with its own y axis titled `unit`.
  // With `steps`, the value holds until the next point (a balance changes at its entries' instants);
  // with `daily`, a day without a point is zero (no usage that day): the line drops to it, unmarked.
  function chart(target, series, xMin, xMax, title, unit, format, steps, daily) {
    var W = 480, H = 240, R = 20, T = 36, B = 40, marks = 0;
    var svg = el('svg', {viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title});
    target.appendChild(svg);
    var yMax = 0, yMin = 0;
    series.forEach(function (s) { s.points.forEach(function (p) {
      yMax = Math.max(yMax, p[1]); yMin = Math.min(yMin, p[1]); }); });
    var by = niceStep(yMax > yMin ? yMax - yMin : Math.max(Math.abs(yMax), 1));
    var whole = series.every(function (s) { return s.points.every(function (p) { return p[1] % 1 === 0; }); });
    if (whole) by = Math.max(by, 1);  // counts: no fractional ticks
    var lo = Math.floor(yMin / by) * by, hi = Math.max(Math.ceil(yMax / by) * by, lo + by);
    var ticks = [];
    for (var v = lo; v <= hi + by / 2; v += by) ticks.push(v);
    // y labels first, measured: the plot starts right of the widest, so none is cut off
    var labels = ticks.map(function (v) {
      var t = el('text', {x: 0, y: 0, 'text-anchor': 'end', 'font-size': 12, fill: '#5b6478', 'class': 'y-label'}, svg);
      t.textContent = format(v, by);
      return t;
    });
    var widest = 0;
    labels.forEach(function (t) { widest = Math.max(widest, t.getComputedTextLength()); });
    var L = Math.ceil(widest) + 14;
    function x(t) { return L + (W - L - R) * (t - xMin) / Math.max(xMax - xMin, 1); }
    function y(v) { return H - B - (H - T - B) * (v - lo) / (hi - lo); }
    labels.forEach(function (t, i) {
      t.setAttribute('x', L - 6); t.setAttribute('y', y(ticks[i]) + 4);
      el('line', {x1: L, x2: W - R, y1: y(ticks[i]), y2: y(ticks[i]), stroke: '#e3e7ef'}, svg);
    });
    var axisTitle = el('text', {x: 4, y: 16, 'font-size': 12, fill: '#5b6478', 'class': 'axis-title'}, svg);
    axisTitle.textContent = unit;
    el('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#8a93a6'}, svg);
    el('line', {x1: L, y1: T, x2: L, y2: H - B, stroke: '#8a93a6'}, svg);
    var mid = xMin + Math.round((xMax - xMin) / 2 / DAY) * DAY;
    [xMin, mid, xMax].forEach(function (t, i) {
      var l = el('text', {x: x(t), y: H - B + 18, 'text-anchor': ['start', 'middle', 'end'][i], 'font-size': 12,
                          fill: '#5b6478', 'class': 'x-label'}, svg);
      l.textContent = day(t);
    });
    var legend = document.createElement('div');
    legend.className = 'legend';
    series.forEach(function (s, n) {
      var color = colors[n % colors.length];
      var line = s.points;
      if (daily) {
        var on = {};
        s.points.forEach(function (p) { on[p[0]] = p[1]; });
        line = [];
        for (var t = xMin; t <= xMax; t += DAY) line.push([t, t in on ? on[t] : 0]);
      }
      var pts = line.map(function (p, i) {
        var held = steps && i ? x(p[0]) + ',' + y(line[i - 1][1]) + ' ' : '';
        return held + x(p[0]) + ',' + y(p[1]);
      }).join(' ');
      el('polyline', {points: pts, fill: 'none', stroke: color, 'stroke-width': 2, 'class': 'series'}, svg);
      s.points.forEach(function (p) {
        el('circle', {cx: x(p[0]), cy: y(p[1]), r: 3.5, fill: color, 'class': 'mark'}, svg); marks++;
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
    target.appendChild(legend);
    target.setAttribute('data-marks', marks);
    target.setAttribute('data-series', series.length);
    target.setAttribute('data-rendered', 'true');
  }
  var start = Date.parse(data.start + 'T00:00:00Z'), last = start + (data.days - 1) * DAY;
  var grid = document.getElementById('usage-charts');
  data.usage.forEach(function (m) {
    var box = document.createElement('div');
    box.className = 'chart'; box.setAttribute('data-metric', m.metric); box.setAttribute('data-rendered', 'false');
    var h = document.createElement('h4'); h.textContent = m.title; box.appendChild(h);
    grid.appendChild(box);
    var series = m.series.map(function (s) {
      return {name: s.name, points: s.points.map(function (p) { return [Date.parse(p[0] + 'T00:00:00Z'), p[1]]; })};
    });
    chart(box, series, start, last, m.title + ' per day', m.metric + ' per day', label, false, true);
  });
  if (!data.usage.length) grid.textContent = 'No usage in this period.';
  var end = start + data.days * DAY;
  var balances = data.balances.map(function (b) {
    var pts = b.points.map(function (p) { return [Date.parse(p[0] + 'Z'), p[1]]; });
    if (pts.length && pts[pts.length - 1][0] < end) pts.push([end, pts[pts.length - 1][1]]);  // held to the end
    return {name: b.name + ' (' + b.type + ')', points: pts};
  });
  var currency = data.balances.length ? data.balances[0].currency : '';
  chart(document.getElementById('balance-chart'), balances, start, end, 'Remaining balance',
        'remaining (' + currency + ')', label, true);
})();
</script>
</body></html>
"""


def render_statement(data: dict) -> str:
    title = f"{data['customer_name']} ({data['customer_id']}), {data['period_text']}"
    invoices = "".join(_invoice_html(i) for i in data["invoices"]) or "<p>No invoices in this period.</p>"
    payload = json.dumps({k: v for k, v in data.items() if k != "invoices"}, default=_json_default)
    payload = payload.replace("</", "<\\/")  # keep the JSON inside its script element
    return (
        PAGE.replace("__TITLE__", html.escape(title))
        .replace("__BALANCES__", _balances_html(data["balances"]))
        .replace("__INVOICES__", invoices)
        .replace("__DATA__", payload)
    )


def write_statement(
    db_path: Path, customer_id: str, period: str, out: str | Path, project_dir: Path | None = None
) -> Path:
    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm"):
        raise BillingError(f"--out {out}: should end in .html")
    if not path.parent.is_dir():
        raise BillingError(f"--out {out}: folder {path.parent} does not exist")
    check_target(path)
    return write_text(path, render_statement(statement_data(db_path, customer_id, period, project_dir)))
