"""Invoice documents a customer can receive: `billing invoices list|show|render` (DECISIONLOG D63, D64).

An invoice document follows Stripe's layout: the issuer (from `issuer.yml` at the project root), an
invoice number, the dates of issue and due, a bill-to block, a line table (quantity, unit price,
amount; graduated tiers broken down), then subtotal, credits, commits, total and amount due, all in
the invoice's currency (billing_cli/currency.py). Lines follow Metronome's semantics: charges first,
then the credits and commits drawn against them, each named with its product and its pricing and
presentation group values.

Numbers are derived, never stored (D63): the stored invoice versions of the append-only invoice
store (D43), in the order they were stored (the storing build's real start; within one build by
date of issue, then invoice id and version), are numbered 1, 2, 3, ... after the issuer's prefix.
The store only grows and a build stores after every earlier one, so a number never changes once
given. A draft has no number; a
voided version keeps its number and its regenerated version gets the next free one.

The HTML page is self-contained (inline CSS, no script, no network); the PDF is that page printed
by headless Chromium (Debian's `chromium`, `make browser`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml

from .currency import format_money, format_number, normalize_code, round_money
from .db import connect, has_table
from .errors import BillingError
from .outputs import check_target, write_bytes, write_text

ISSUER_FILE = "issuer.yml"
DEFAULT_NET_TERMS_DAYS = 30
PREFIX = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")

# Human names of the contract's line types, in the order charges are listed; balances drawn come last.
LINE_TYPES = {
    "usage": "Usage",
    "composite": "Usage-based fee",
    "subscription": "Subscription",
    "scheduled": "Scheduled charge",
    "commit_purchase": "Commit purchase",
    "commit_true_up": "Minimum commitment true-up",
    "late_usage_adjustment": "Late usage adjustment",
    "applied_credit": "Credit applied",
    "applied_commit": "Commit applied",
}
BALANCE_LINE_TYPES = ("applied_credit", "applied_commit")
STATUS_NAMES = {"DRAFT": "Draft", "FINALIZED": "Issued", "VOID": "Void"}


# -- the issuer ----------------------------------------------------------------------------------


@dataclass
class Issuer:
    """Who issues the invoices (`issuer.yml`); every field has a default."""

    name: str = "Your Company"
    address: list[str] = field(default_factory=list)
    email: str = ""
    tax_id: str = ""
    invoice_prefix: str = "INV"
    net_terms_days: int = DEFAULT_NET_TERMS_DAYS


def load_issuer(project_dir: Path) -> Issuer:
    """The issuer of `project_dir/issuer.yml` (`issuer:` mapping); defaults when the file is absent."""
    path = Path(project_dir) / ISSUER_FILE
    if not path.exists():
        return Issuer()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise BillingError(f"{path}: cannot read: {str(e).splitlines()[0]}") from None
    values = doc.get("issuer") if isinstance(doc, dict) else None
    if not isinstance(values, dict):
        raise BillingError(f"{path}: expected a mapping under `issuer:`")
    known = set(Issuer.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise BillingError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    issuer = Issuer()
    for key in ("name", "email", "tax_id", "invoice_prefix"):
        if values.get(key) is not None:
            if not isinstance(values[key], (str, int)):
                raise BillingError(f"{path}: issuer.{key} should be text")
            setattr(issuer, key, str(values[key]).strip())
    if values.get("address") is not None:
        issuer.address = _address_lines(path, values["address"])
    if values.get("net_terms_days") is not None:
        issuer.net_terms_days = _terms(path, values["net_terms_days"])
    issuer.invoice_prefix = issuer.invoice_prefix.upper()
    if not PREFIX.fullmatch(issuer.invoice_prefix):
        raise BillingError(
            f"{path}: issuer.invoice_prefix {issuer.invoice_prefix!r} should be 1 to 20 letters, digits or dashes"
        )
    return issuer


def _address_lines(path: Path, address) -> list[str]:
    if isinstance(address, str):
        address = address.splitlines()
    if not isinstance(address, list) or not all(isinstance(a, (str, int)) for a in address):
        raise BillingError(f"{path}: issuer.address should be a list of lines")
    return [str(a).strip() for a in address if str(a).strip()]


def _terms(path: Path, terms) -> int:
    if isinstance(terms, bool) or not isinstance(terms, int) or not 0 <= terms <= 3650:
        raise BillingError(f"{path}: issuer.net_terms_days should be a whole number of days from 0 to 3650")
    return terms


# -- numbers ---------------------------------------------------------------------------------------

STORED_VERSIONS = """
select
    s.invoice_id, s.invoice_version, s.stored_at,
    row_number() over (order by s.stored_at, s.issued_at, s.invoice_id, s.invoice_version) as sequence,
    v.invoice_id is not null as is_void
from main.invoice_store as s
left join (select distinct invoice_id, invoice_version from main.invoice_store where record_type = 'void') as v
    on s.invoice_id = v.invoice_id and s.invoice_version = v.invoice_version
where s.record_type = 'invoice'
"""


def invoice_number(prefix: str, sequence: int) -> str:
    return f"{prefix}-{sequence:04d}"


def stored_numbers(con, prefix: str) -> dict[tuple[str, int], tuple[str, bool]]:
    """(invoice_id, invoice_version) of every stored version -> (its number, whether it is voided)."""
    if not has_table(con, "main", "invoice_store"):
        return {}
    return {(r[0], r[1]): (invoice_number(prefix, r[3]), bool(r[4])) for r in con.execute(STORED_VERSIONS).fetchall()}


# -- reading -------------------------------------------------------------------------------------

HEADER_COLUMNS = (
    "invoice_id, contract_id, customer_id, invoice_type, status, currency, period_starting_at, "
    "period_ending_before, issued_at, due_at, subtotal, credits_applied, commits_applied, total, contract_name"
)
LINE_COLUMNS = (
    "line_item_id, line_type, product_id, name, starting_at, ending_before, pricing_group_values, "
    "presentation_group_values, quantity, unit_price, amount, commit_id, credit_id, adjusted_invoice_id"
)


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _require_marts(con, db_path: Path) -> None:
    if not has_table(con, "main", "fct_invoices"):
        raise BillingError(f"{db_path}: no invoices yet (run `billing build` first)")


def list_invoices(db_path: Path, project_dir: Path, customer_id: str | None = None) -> list[dict]:
    """Every stored invoice version (numbered, FINALIZED or VOID) and every draft, oldest first."""
    issuer = load_issuer(project_dir)
    con = connect(db_path, read_only=True)
    try:
        _require_marts(con, db_path)
        con.execute("begin transaction")  # one snapshot
        numbers = stored_numbers(con, issuer.invoice_prefix)
        stored = (
            _dicts(
                con.execute(
                    f"select {HEADER_COLUMNS}, invoice_version from main.invoice_store where record_type = 'invoice'"
                )
            )
            if numbers
            else []
        )
        drafts = _dicts(
            con.execute(f"select {HEADER_COLUMNS}, invoice_version from main.fct_invoices where status = 'DRAFT'")
        )
        names = dict(con.execute("select customer_id, name from main.stg_customers").fetchall())
    finally:
        con.close()
    rows = []
    for r in stored + drafts:
        if customer_id is not None and r["customer_id"] != customer_id:
            continue
        number, void = numbers.get((r["invoice_id"], r["invoice_version"]), (None, False))
        rows.append(
            {
                **r,
                "number": number,
                "status": "VOID" if void else r["status"],
                "customer_name": names.get(r["customer_id"], ""),
            }
        )
    rows.sort(key=lambda r: (r["number"] is None, r["number"] or "", r["issued_at"], r["invoice_id"]))
    return rows


def _find(con, issuer: Issuer, ref: str) -> tuple[dict, list[dict], str | None, bool]:
    """The header, lines, number and voidness of INVOICE: a number (a stored version) or an invoice id
    (its current version: final or draft; else its last voided version)."""
    numbers = stored_numbers(con, issuer.invoice_prefix)
    by_number = {number: (key, void) for key, (number, void) in numbers.items()}
    wanted = ref.strip().upper()
    key = None
    if wanted in by_number:
        key, _ = by_number[wanted]
    else:
        current = con.execute(
            "select invoice_id, invoice_version, status from main.fct_invoices where invoice_id = ?", [ref]
        ).fetchone()
        if current is not None and current[2] == "DRAFT":
            header = _dicts(con.execute(f"select {HEADER_COLUMNS} from main.fct_invoices where invoice_id = ?", [ref]))[
                0
            ]
            lines = _dicts(
                con.execute(f"select {LINE_COLUMNS} from main.fct_invoice_line_items where invoice_id = ?", [ref])
            )
            header["invoice_version"] = None  # a draft is not stored: no version yet
            return header, lines, None, False
        if current is not None:
            key = (current[0], current[1])
        else:
            versions = sorted(v for (i, v) in numbers if i == ref)
            key = (ref, versions[-1]) if versions else None
    if key is None:
        raise BillingError(
            f"no invoice {ref!r}: give an invoice id or a number such as {invoice_number(issuer.invoice_prefix, 1)} "
            "(see `billing invoices list`)"
        )
    number, void = numbers[key]
    header = _dicts(
        con.execute(
            f"select {HEADER_COLUMNS} from main.invoice_store where record_type = 'invoice' "
            "and invoice_id = ? and invoice_version = ?",
            list(key),
        )
    )[0]
    lines = _dicts(
        con.execute(
            f"select {LINE_COLUMNS} from main.invoice_store where record_type = 'line' "
            "and invoice_id = ? and invoice_version = ?",
            list(key),
        )
    )
    header["invoice_version"] = key[1]
    return header, lines, number, void


TIER_CANDIDATES = """
with line_contract as (
    select rate_card_id from main.stg_contracts where contract_id = ?
)
select 'rate' as source, r.rate_id as source_id, r.pricing_group_values, t.tier_index, t.tier_floor,
       t.tier_ceiling, t.tier_price
from main.stg_rate_card_rates as r
join line_contract as c on r.rate_card_id = c.rate_card_id
join main.int_price_tiers as t on t.price_source_id = r.rate_id
where r.product_id = ? and r.rate_type = 'TIERED' and r.starting_at <= ?
  and (r.ending_before is null or ? < r.ending_before)
union all
select 'override', o.override_id, o.pricing_group_values, t.tier_index, t.tier_floor, t.tier_ceiling, t.tier_price
from main.stg_contract_overrides as o
join main.int_price_tiers as t on t.price_source_id = o.override_id
where o.contract_id = ? and o.rate_type = 'TIERED' and o.starting_at <= ?
  and (o.ending_before is null or ? < o.ending_before)
order by 1 desc, 2, 4
"""
MULTIPLIERS = """
select distinct multiplier from main.stg_contract_overrides
where contract_id = ? and override_type = 'MULTIPLIER' and multiplier is not null and starting_at <= ?
  and (ending_before is null or ? < ending_before)
"""


def graduated(quantity: Decimal, tiers: list[tuple], multiplier: Decimal = Decimal(1)) -> list[dict]:
    """Graduated (TIERED) pricing of `quantity`: each tier's units, unit price and exact amount."""
    out = []
    for index, (floor, ceiling, price) in enumerate(tiers, start=1):
        if quantity <= floor and out:
            break
        units = max(Decimal(0), (quantity if ceiling is None else min(quantity, ceiling)) - floor)
        unit_price = price * multiplier
        out.append(
            {
                "index": index,
                "from": floor,
                "to": ceiling,
                "quantity": units,
                "unit_price": unit_price,
                "amount": units * unit_price,
            }
        )
    return out


def tier_breakdown(con, contract_id: str, line: dict, currency: str | None = None) -> list[dict] | None:
    """The tiers of a TIERED line, from the catalog: the first tier set in effect at the line's start
    (its own pricing group first) whose graduated amount, rounded to the currency's minor unit (D20),
    is the line's amount;
    None when none is (the catalog changed since the invoice was rated): then no breakdown is shown."""
    if not has_table(con, "main", "int_price_tiers"):
        return None
    start = line["starting_at"]
    rows = con.execute(
        TIER_CANDIDATES, [contract_id, line["product_id"], start, start, contract_id, start, start]
    ).fetchall()
    sources: dict[tuple, list] = {}
    for source, source_id, groups, _index, floor, ceiling, price in rows:
        sources.setdefault((source, source_id, groups), []).append((floor, ceiling, price))
    multipliers = [Decimal(1)] + [r[0] for r in con.execute(MULTIPLIERS, [contract_id, start, start]).fetchall()]
    own = _canonical(line["pricing_group_values"])
    ordered = sorted(sources.items(), key=lambda kv: (_canonical(kv[0][2]) != own, kv[0][0] != "rate", kv[0][1]))
    for _key, tiers in ordered:
        if any(price is None for _f, _c, price in tiers):
            continue
        for multiplier in multipliers:
            parts = graduated(line["quantity"], tiers, multiplier)
            total = sum((p["amount"] for p in parts), Decimal(0))
            if round_money(total, currency) == line["amount"]:
                return parts
    return None


def _canonical(values: str | None) -> dict:
    if not values:
        return {}
    try:
        parsed = json.loads(values)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def _day(value: datetime | None):
    return None if value is None else value.date()


def _last_day(ending_before: datetime | None):
    """The last day an interval [start, ending_before) covers: the day before a midnight bound."""
    if ending_before is None:
        return None
    moment = ending_before - timedelta(microseconds=1)
    return moment.date()


def date_text(day) -> str:
    return "" if day is None else f"{day:%B} {day.day}, {day.year}"


def range_text(start: datetime | None, ending_before: datetime | None) -> str:
    """An interval as the inclusive dates a person reads: `January 1 – January 31, 2025`."""
    first, last = _day(start), _last_day(ending_before)
    if first is None or last is None:
        return date_text(first or last)
    if first == last:
        return date_text(first)
    if first.year == last.year:
        return f"{first:%B} {first.day} – {date_text(last)}"
    return f"{date_text(first)} – {date_text(last)}"


def group_text(product_keys: dict, line: dict) -> str:
    """The line's pricing and presentation group values, e.g. `model: gpt-4, region: eu`; a product
    with a pricing group key whose line has none is priced at the default rate: `model: other`."""
    pricing = _canonical(line["pricing_group_values"])
    presentation = _canonical(line["presentation_group_values"])
    parts = [f"{k}: {v}" for k, v in pricing.items()]
    if not pricing:
        parts += [f"{k}: other" for k in product_keys.get(line["product_id"], [])]
    parts += [f"{k}: {v}" for k, v in presentation.items() if k not in pricing]
    return ", ".join(parts)


@dataclass
class InvoiceDocument:
    issuer: Issuer
    header: dict
    customer: dict
    number: str | None
    status: str  # DRAFT, FINALIZED or VOID
    charges: list[dict]
    balances: list[dict]

    @property
    def currency(self) -> str:
        return normalize_code(self.header["currency"])

    def money(self, value: Decimal | None) -> str:
        return "" if value is None else format_money(value, self.currency)

    @property
    def issue_date(self):
        return _day(self.header["issued_at"])

    @property
    def due_date(self):
        """The data's due date when the contract sets net payment terms, else the issue date plus
        the issuer's net terms (D64)."""
        if self.header.get("terms_given") and self.header["due_at"] is not None:
            return _day(self.header["due_at"])
        return None if self.issue_date is None else self.issue_date + timedelta(days=self.issuer.net_terms_days)

    @property
    def amount_due(self) -> Decimal:
        return Decimal("0.00") if self.status == "VOID" else self.header["total"]

    @property
    def title(self) -> str:
        return self.number or "DRAFT"

    @property
    def period(self) -> str:
        h = self.header
        if h["invoice_type"] == "USAGE":
            return range_text(h["period_starting_at"], h["period_ending_before"])
        return date_text(self.issue_date)

    @property
    def lines(self) -> list[dict]:
        return self.charges + self.balances


def _contract_has_terms(con, contract_id: str) -> bool:
    """Whether the contracts seed gives the contract net payment terms (staging reads empty as 0)."""
    if not has_table(con, "main", "contracts"):
        return True
    row = con.execute(
        "select net_payment_terms_days from main.contracts where contract_id = ?", [contract_id]
    ).fetchone()
    return row is not None and row[0] is not None and str(row[0]).strip() != ""


def _line_order(line: dict):
    kinds = list(LINE_TYPES)
    return (
        kinds.index(line["line_type"]) if line["line_type"] in kinds else len(kinds),
        line["name"] or "",
        line["group_text"],
        line["starting_at"] or datetime.min,
        line["line_item_id"],
    )


def load_invoice(db_path: Path, project_dir: Path, ref: str) -> InvoiceDocument:
    """The document of INVOICE (a number or an invoice id), read in one snapshot."""
    issuer = load_issuer(project_dir)
    con = connect(db_path, read_only=True)
    try:
        _require_marts(con, db_path)
        con.execute("begin transaction")
        header, lines, number, void = _find(con, issuer, ref)
        lines_total = sum((line["amount"] for line in lines if line["amount"] is not None), Decimal(0))
        if lines_total != header["total"]:
            raise BillingError(
                f"invoice {ref}: total {header['total']} does not match its lines ({lines_total}); "
                "run `billing build` and try again"
            )
        customer = _dicts(
            con.execute(
                "select customer_id, name, billing_provider, billing_provider_customer_id "
                "from main.stg_customers where customer_id = ?",
                [header["customer_id"]],
            )
        )
        keys = {
            pid: json.loads(k) if k else []
            for pid, k in con.execute("select product_id, pricing_group_key from main.stg_products").fetchall()
        }
        header["terms_given"] = _contract_has_terms(con, header["contract_id"])
        for line in lines:
            line["group_text"] = group_text(keys, line)
            line["type_name"] = LINE_TYPES.get(line["line_type"], line["line_type"])
            line["tiers"] = None
            if line["line_type"] == "usage" and line["unit_price"] is None and line["quantity"] is not None:
                line["tiers"] = tier_breakdown(con, header["contract_id"], line, header["currency"])
    finally:
        con.close()
    lines.sort(key=_line_order)
    return InvoiceDocument(
        issuer=issuer,
        header=header,
        customer=customer[0] if customer else {"customer_id": header["customer_id"], "name": header["customer_id"]},
        number=number,
        status="VOID" if void else header["status"],
        charges=[line for line in lines if line["line_type"] not in BALANCE_LINE_TYPES],
        balances=[line for line in lines if line["line_type"] in BALANCE_LINE_TYPES],
    )


# -- text ----------------------------------------------------------------------------------------


def describe_list(rows: list[dict]) -> str:
    from .tables import render_table

    if not rows:
        return "No invoices yet."
    table = [
        (
            r["number"] or "DRAFT",
            STATUS_NAMES.get(r["status"], r["status"]),
            r["invoice_type"].title(),
            f"{r['customer_name']} ({r['customer_id']})",
            range_text(r["period_starting_at"], r["period_ending_before"])
            if r["invoice_type"] == "USAGE"
            else date_text(_day(r["issued_at"])),
            format_money(r["total"], r["currency"]),
            r["invoice_id"],
        )
        for r in rows
    ]
    return render_table(["number", "status", "type", "customer", "period or date", "total", "invoice id"], table)


def describe_invoice(doc: InvoiceDocument) -> str:
    """`billing invoices show`: the document as plain text."""
    h = doc.header
    version = f" (version {h['invoice_version']})" if h.get("invoice_version") else ""
    fields = [
        ("Invoice id", f"{h['invoice_id']}{version}"),
        ("Billed to", f"{doc.customer['name']} ({doc.customer['customer_id']})"),
        ("Contract", h["contract_name"] or h["contract_id"]),
        ("Service period" if h["invoice_type"] == "USAGE" else "Charged on", doc.period),
        ("Date of issue", date_text(doc.issue_date)),
        ("Date due", date_text(doc.due_date)),
    ]
    out = [f"Invoice {doc.title} ({STATUS_NAMES.get(doc.status, doc.status)}), {h['invoice_type'].title()} invoice"]
    out += [f"  {label:<15}{value}" for label, value in fields] + [""]
    width = max([len(_line_label(line)) for line in doc.lines] + [20])
    for line in doc.lines:
        balance = line["line_type"] in BALANCE_LINE_TYPES  # one drawn amount: no quantity or unit price
        qty = "" if line["quantity"] is None or balance else format_number(line["quantity"])
        price = "" if line["unit_price"] is None or balance else doc.money(line["unit_price"])
        out.append(f"  {_line_label(line).ljust(width)}  {qty:>14}  {price:>12}  {doc.money(line['amount']):>14}")
        if line["line_type"] == "late_usage_adjustment":  # not this period's usage: say whose, as the document does
            out.append(f"    {line['type_name']} · {range_text(line['starting_at'], line['ending_before'])}")
        for tier in line["tiers"] or []:
            label = f"    Tier {tier['index']}: {_tier_label(tier)}"
            out.append(
                f"  {label.ljust(width)}  {format_number(tier['quantity']):>14}  {doc.money(tier['unit_price']):>12}  "
                f"{doc.money(tier['amount']):>14}"
            )
    out.append("")
    for label, value in _totals(doc):
        out.append(f"  {label.rjust(width + 32)}  {value:>14}")
    return "\n".join(out)


def _line_label(line: dict) -> str:
    name = line["name"] or line["type_name"]
    return f"{name} ({line['group_text']})" if line["group_text"] else name


def _tier_label(tier: dict) -> str:
    if tier["to"] is None:
        return f"over {format_number(tier['from'])}"
    if not tier["from"]:
        return f"up to {format_number(tier['to'])}"
    return f"over {format_number(tier['from'])} up to {format_number(tier['to'])}"


def _totals(doc: InvoiceDocument) -> list[tuple[str, str]]:
    h = doc.header
    rows = [("Subtotal", doc.money(h["subtotal"]))]
    if h["credits_applied"]:
        rows.append(("Credits", doc.money(-h["credits_applied"])))
    if h["commits_applied"]:
        rows.append(("Commits", doc.money(-h["commits_applied"])))
    rows.append(("Total", doc.money(h["total"])))
    rows.append(("Amount due", doc.money(doc.amount_due)))
    return rows


# -- HTML and PDF --------------------------------------------------------------------------------

TEMPLATE = Path(__file__).parent / "templates" / "invoice.html.j2"


def render_html(doc: InvoiceDocument) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["money"] = doc.money
    env.filters["number"] = format_number
    env.filters["date"] = date_text
    env.filters["range"] = lambda line: range_text(line["starting_at"], line["ending_before"])
    return env.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        doc=doc,
        h=doc.header,
        status_name=STATUS_NAMES.get(doc.status, doc.status),
        totals=_totals(doc),
        line_label=_line_label,
        tier_label=_tier_label,
    )


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise BillingError("printing a PDF needs Chromium: install Debian's chromium package (`make browser`)")


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def print_pdf(page_html: str, timeout: float = 180) -> bytes:
    """`page_html` printed to PDF by headless Chromium (a throwaway profile; nothing fetched)."""
    with tempfile.TemporaryDirectory(prefix="billing-pdf-") as tmp:
        page, pdf = Path(tmp) / "invoice.html", Path(tmp) / "invoice.pdf"
        page.write_text(page_html, encoding="utf-8")
        try:
            done = subprocess.run(
                [
                    chromium(),
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={Path(tmp) / 'profile'}",
                    f"--print-to-pdf={pdf}",
                    page.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise BillingError(f"Chromium did not print the PDF within {timeout:.0f} s") from None
        if not pdf.exists() or not pdf.read_bytes().startswith(b"%PDF"):
            raise BillingError(
                "Chromium did not print the PDF: " + (done.stderr.strip().splitlines() or ["no output"])[-1]
            )
        return pdf.read_bytes()


def write_invoice(
    db_path: Path, project_dir: Path, ref: str, fmt: str, out: str | Path
) -> tuple[Path, InvoiceDocument]:
    fmt = fmt.lower()
    path = Path(out)
    if fmt not in ("html", "pdf"):
        raise BillingError(f"format {fmt!r} is not one of html, pdf")
    if path.suffix.lower() not in ((".html", ".htm") if fmt == "html" else (".pdf",)):
        raise BillingError(f"--out {out}: should end in .{fmt} for --format {fmt}")
    check_target(path)
    doc = load_invoice(db_path, project_dir, ref)
    page = render_html(doc)
    if fmt == "html":
        return write_text(path, page), doc
    return write_bytes(path, print_pdf(page)), doc
