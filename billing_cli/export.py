"""Exporting a period's invoices with their line items for finance (CSV, JSON, Parquet)."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from .currency import exact_money_text
from .db import connect
from .errors import BillingError
from .outputs import atomic_output, check_target

FORMATS = ("csv", "json", "parquet")
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

INVOICE_COLUMNS = (
    "invoice_id",
    "contract_id",
    "customer_id",
    "customer_name",
    "billing_provider",
    "billing_provider_customer_id",
    "invoice_type",
    "status",
    "currency",
    "period_starting_at",
    "period_ending_before",
    "issued_at",
    "due_at",
    "subtotal",
    "credits_applied",
    "commits_applied",
    "total",
)
LINE_COLUMNS = (
    "line_item_id",
    "line_type",
    "product_id",
    "name",
    "starting_at",
    "ending_before",
    "pricing_group_values",
    "presentation_group_values",
    "quantity",
    "unit_price",
    "amount",
    "commit_id",
    "credit_id",
)
PLAIN_NUMBER_COLUMNS = {"quantity", "unit_price"}
TEXT_COLUMNS = {
    "invoice_id",
    "contract_id",
    "customer_id",
    "customer_name",
    "billing_provider",
    "billing_provider_customer_id",
    "line_item_id",
    "product_id",
    "name",
    "pricing_group_values",
    "presentation_group_values",
    "commit_id",
    "credit_id",
}

# Invoices of a period: USAGE invoices whose period starts in the month, SCHEDULED invoices issued in it.
IN_PERIOD = """(i.invoice_type = 'USAGE' and i.period_starting_at >= ? and i.period_starting_at < ?)
   or (i.invoice_type = 'SCHEDULED' and i.issued_at >= ? and i.issued_at < ?)"""
QUERY = f"""
select
    i.invoice_id, i.contract_id, i.customer_id,
    c.name as customer_name, c.billing_provider, c.billing_provider_customer_id,
    i.invoice_type, i.status, i.currency, i.period_starting_at, i.period_ending_before,
    i.issued_at, i.due_at, i.subtotal, i.credits_applied, i.commits_applied, i.total, i.stored_at, i.contract_name,
    i.invoice_version,
    l.line_item_id, l.line_type, l.product_id, l.name, l.starting_at, l.ending_before,
    l.pricing_group_values, l.presentation_group_values, l.quantity, l.unit_price, l.amount,
    l.commit_id, l.credit_id
from main.fct_invoices as i
left join main.stg_customers as c on i.customer_id = c.customer_id
left join main.fct_invoice_line_items as l on i.invoice_id = l.invoice_id
where {IN_PERIOD}
order by i.customer_id, i.issued_at, i.invoice_type, i.invoice_id,
         l.line_type, l.product_id, l.starting_at, l.line_item_id
"""
# Invoices of the period whose header disagrees with its lines (fct_invoices and fct_invoice_line_items
# are separate tables: a build killed between them leaves them from two builds; DECISIONLOG D51).
UNRECONCILED = f"""
select i.invoice_id, i.total, i.line_count, coalesce(sum(l.amount), 0) as lines_total,
       count(l.line_item_id) as lines
from main.fct_invoices as i
left join main.fct_invoice_line_items as l on i.invoice_id = l.invoice_id
where {IN_PERIOD}
group by i.invoice_id, i.total, i.line_count
having i.total is distinct from coalesce(sum(l.amount), 0) or i.line_count is distinct from count(l.line_item_id)
order by i.invoice_id
"""
MAX_NAMED = 10


def period_bounds(period: str) -> tuple[datetime, datetime]:
    match = PERIOD.fullmatch(period or "")
    if not match:
        raise BillingError(f"period {period!r} is not of the form YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    try:
        start = datetime(year, month, 1)
        end = datetime(year + (month == 12), month % 12 + 1, 1)
    except ValueError:
        raise BillingError(f"period {period!r} is out of range") from None
    return start, end


def resolve_out_path(out: str | Path, period: str, fmt: str) -> Path:
    path = Path(out)
    if str(out).startswith("-"):
        raise BillingError(f"output path {out!r} looks like an option")
    if path.exists() and path.is_dir():
        path = path / f"invoices_{period}.{fmt}"
    if path.suffix.lower() != f".{fmt}":
        raise BillingError(f"output path {path} should end in .{fmt} for --format {fmt}")
    if not path.parent.is_dir():
        raise BillingError(f"output folder {path.parent} does not exist")
    return check_target(path)


def neutralise(value):
    """Spreadsheets execute cells starting with = + - @ tab or CR: prefix such text with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _text_number(value: Decimal) -> str:
    """Exact decimal text without trailing zeros (quantities, unit prices)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _decimal_text(column: str, value: Decimal, currency: str | None) -> str:
    """Exact decimal text: money with its currency's minor units (1235 JPY, 1234.57 USD, 1234.568 KWD;
    DECISIONLOG D70), quantities and unit prices without trailing zeros."""
    return _text_number(value) if column in PLAIN_NUMBER_COLUMNS else exact_money_text(value, currency)


def _csv_value(column: str, value, currency: str | None):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Decimal):
        return _decimal_text(column, value, currency)
    return neutralise(value) if column in TEXT_COLUMNS else value


def _json_value(column: str, value, currency: str | None):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _decimal_text(column, value, currency)  # exact: numbers as decimal strings
    return value


def _refuse_unreconciled(period: str, rows: list[tuple]) -> None:
    """Refuse, naming them, when invoices of the period disagree with their lines."""
    if not rows:
        return
    named = [f"{r[0]} (total {r[1]}, {r[2]} line(s); lines sum to {r[3]} in {r[4]})" for r in rows[:MAX_NAMED]]
    more = f" and {len(rows) - MAX_NAMED} more" if len(rows) > MAX_NAMED else ""
    raise BillingError(
        f"refused: {len(rows)} invoice(s) of {period} do not match their line items (a build was interrupted "
        f"between fct_invoices and fct_invoice_line_items?): {'; '.join(named)}{more}. "
        "Run `billing build` and export again; nothing was written."
    )


def period_rows(db_path: Path, period: str, arrow: bool = False):
    """The period's invoices joined to their customer and line items (one row per line), as dicts;
    with arrow=True also the Arrow table (DECIMAL types kept). Read in one transaction (one snapshot),
    and refused when an invoice's total or line_count disagrees with its lines."""
    start, end = period_bounds(period)
    con = connect(db_path, read_only=True)
    try:
        params = [start, end, start, end]
        try:
            con.execute("begin transaction")
            _refuse_unreconciled(period, con.execute(UNRECONCILED, params).fetchall())
            if arrow:
                table = con.sql(QUERY, params=params).to_arrow_table()
                return table.to_pylist(), table
            cursor = con.execute(QUERY, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()], None
        except duckdb.Error as e:
            raise BillingError(
                f"{db_path}: no invoices to export ({str(e).splitlines()[0]}); run `billing build` first"
            ) from None
    finally:
        con.close()


def export_invoices(db_path: Path, period: str, fmt: str, out: str | Path) -> tuple[Path, int, int]:
    """Write the period's invoices and lines; returns (path, invoices, line items)."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise BillingError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    period_bounds(period)  # a bad period is reported before a bad path
    path = resolve_out_path(out, period, fmt)
    rows, table = period_rows(db_path, period, arrow=(fmt == "parquet"))

    invoices = {r["invoice_id"] for r in rows}
    lines = sum(1 for r in rows if r["line_item_id"] is not None)
    with atomic_output(path) as tmp:
        if fmt == "csv":
            _write_csv(tmp, rows)
        elif fmt == "json":
            _write_json(tmp, period, rows)
        else:
            pq.write_table(table, str(tmp))
    return path, len(invoices), lines


def _write_csv(path: Path, rows: list[dict]) -> None:
    """One row per line item (invoice columns repeated), formula-like text neutralised."""
    columns = INVOICE_COLUMNS + LINE_COLUMNS
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_csv_value(c, r[c], r["currency"]) for c in columns])


def _write_json(path: Path, period: str, rows: list[dict]) -> None:
    """One document per invoice with its line items; money as exact decimal strings."""
    documents: dict[str, dict] = {}
    for r in rows:
        doc = documents.setdefault(
            r["invoice_id"], {**{c: _json_value(c, r[c], r["currency"]) for c in INVOICE_COLUMNS}, "line_items": []}
        )
        if r["line_item_id"] is not None:
            doc["line_items"].append({c: _json_value(c, r[c], r["currency"]) for c in LINE_COLUMNS})
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"period": period, "invoices": list(documents.values())}, fh, indent=2)
        fh.write("\n")
