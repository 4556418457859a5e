"""The AutoSales demo (Metronome's pay-as-you-go guide), end to end.

The catalog, metrics and alerts are examples/autosales/ (products, one rate card, Basic/Better/Best
contracts). This module writes that example as a project of its own (`billing init --example
autosales`, DECISIONLOG D65), makes deterministic usage events for it, lands them in a fresh DuckDB
file, builds, exports one month's invoices as CSV and prints a summary.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from .build import DbtProject
from .db import connect
from .errors import BillingError
from .export import export_invoices
from .ingest import describe, ingest
from .init import init_project
from .tables import cell

# (customer_id as sent, alias sometimes used, activity window, daily volume scale)
CUSTOMERS = [
    ("cus_first", "team@customer.com", datetime(2024, 10, 1), 1.0),
    ("cus_acme", None, datetime(2024, 11, 1), 2.0),
    ("cus_globex", None, datetime(2025, 1, 15), 0.5),
]
WORKSPACES = ("sales-emea", "sales-us")
EXPORT_PERIOD = "2025-03"
# Marks the demo's project folder under --out, which each run recreates (and removes nothing else).
DEMO_MARKER = ".billing-demo"


def _stamp(moment: datetime, rng: random.Random) -> str:
    """RFC 3339 text, sometimes with a non-UTC offset (the same instant)."""
    if rng.random() < 0.2:
        local = moment - timedelta(hours=5)
        return local.strftime("%Y-%m-%dT%H:%M:%S-05:00")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_events(until: datetime, seed: int = 7) -> tuple[list[dict], list[dict], list[str]]:
    """Returns (events, re-sent events, unreadable lines) for the demo customers up to `until`."""
    rng = random.Random(seed)
    events: list[dict] = []
    counter = 0

    def add(customer: str, event_type: str, moment: datetime, properties: dict) -> None:
        nonlocal counter
        counter += 1
        events.append(
            {
                "transaction_id": f"evt_{counter:07d}",
                "customer_id": customer,
                "event_type": event_type,
                "timestamp": _stamp(moment, rng),
                "properties": properties,
            }
        )

    for customer, alias, start, scale in CUSTOMERS:
        day = start
        room = 0
        while day < until:

            def sent_as(customer: str = customer, alias: str | None = alias) -> str:
                return alias if alias and rng.random() < 0.3 else customer

            def moment(day: datetime = day) -> datetime:
                return day + timedelta(seconds=rng.randrange(86_400))

            for _ in range(int(rng.randint(2, 6) * scale)):
                add(sent_as(), "email_generated", moment(), {"campaign": rng.choice(["inbound", "webinar"])})
            for _ in range(int(rng.randint(0, 3) * scale)):
                add(sent_as(), "spreadsheet_update", moment(), {"rows": str(rng.randint(1, 12))})
            for _ in range(int(rng.randint(0, 2) * scale)):
                add(sent_as(), rng.choice(["reminder_sent", "reminder_escalated"]), moment(), {})
            if rng.random() < 0.3 * scale:
                room += 1
                workspace = rng.choice(WORKSPACES)
                room_id = f"{customer}-room-{room}"
                add(sent_as(), "slack_room_created", moment(), {"room_id": room_id, "workspace": workspace})
                # the same room reported again later: counted once (unique)
                if rng.random() < 0.3:
                    add(sent_as(), "slack_room_created", moment(), {"room_id": room_id, "workspace": workspace})
            if rng.random() < 0.1:
                add(customer, "email_generated", moment(), {"is_test": "true"})  # filtered: unmetered
            day += timedelta(days=1)

    # A few problem events, each rejected with its own reason.
    bad = [
        {"customer_id": "cus_acme", "event_type": "email_generated", "timestamp": "2025-03-03T10:00:00Z"},
        {
            "transaction_id": "bad_customer",
            "customer_id": "cus_unknown",
            "event_type": "email_generated",
            "timestamp": "2025-03-03T10:00:00Z",
            "properties": {},
        },
        {
            "transaction_id": "bad_no_contract",
            "customer_id": "cus_globex",
            "event_type": "email_generated",
            "timestamp": "2025-01-10T10:00:00Z",
            "properties": {},
        },
        {
            "transaction_id": "bad_timestamp",
            "customer_id": "cus_acme",
            "event_type": "email_generated",
            "timestamp": "yesterday",
            "properties": {},
        },
        {
            "transaction_id": "bad_rows",
            "customer_id": "cus_acme",
            "event_type": "spreadsheet_update",
            "timestamp": "2025-03-04T10:00:00Z",
            "properties": {"rows": "lots"},
        },
        {
            "transaction_id": "bad_future",
            "customer_id": "cus_acme",
            "event_type": "email_generated",
            "timestamp": "2099-01-01T00:00:00Z",
            "properties": {},
        },
        {
            "transaction_id": "bad_properties",
            "customer_id": "cus_acme",
            "event_type": "email_generated",
            "timestamp": "2025-03-04T10:00:00Z",
            "properties": "[1, 2]",
        },
    ]
    events.extend(bad)
    # The client retried a batch: same transaction ids, counted once (the earliest load wins).
    resent = [dict(e) for e in rng.sample(events[: -len(bad)], 40)]
    unreadable = ['{"transaction_id": "truncated", "customer_id": "cus_acme", "event_ty']
    return events, resent, unreadable


def write_event_files(out: Path, until: datetime) -> tuple[Path, Path]:
    events, resent, unreadable = generate_events(until)
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / "autosales_events.jsonl"
    with open(jsonl, "w", encoding="utf-8") as fh:
        for i, event in enumerate(events):
            fh.write(json.dumps(event) + "\n")
            if i == len(events) // 2:
                for line in unreadable:
                    fh.write(line + "\n")
    retry = out / "autosales_retry.csv"
    with open(retry, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["transaction_id", "customer_id", "event_type", "timestamp", "properties"])
        for e in resent:
            writer.writerow(
                [
                    e.get("transaction_id"),
                    e.get("customer_id"),
                    e.get("event_type"),
                    e.get("timestamp"),
                    json.dumps(e.get("properties", {})),
                ]
            )
    return jsonl, retry


def _parse_as_of(as_of: str) -> datetime:
    try:
        return datetime.fromisoformat(as_of.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise BillingError(f"--as-of {as_of!r} is not an RFC 3339 timestamp") from None


def demo_project(out: Path) -> Path:
    """`out`/autosales: the AutoSales example as a project, recreated each run; a folder of that name
    that the demo did not make is refused, never removed."""
    project = out / "autosales"
    if project.exists():
        if not (project / DEMO_MARKER).exists():
            raise BillingError(f"{project} exists and was not made by the demo; remove it or pass another --out")
        shutil.rmtree(project)
    init_project(project, example="autosales")
    (project / DEMO_MARKER).write_text("made by `billing demo`; recreated on each run\n")
    return project


def run_demo(db_path: Path | None, out: Path, as_of: str, echo: Callable[[str], None] = print) -> Path:
    """The demo into `db_path` (`billing --db`: must be a new file, never someone's database), else
    into `out`/autosales.duckdb, the demo's own file, recreated each run."""
    until = _parse_as_of(as_of)
    out = out.resolve()
    if db_path is not None:
        if db_path.exists():
            raise BillingError(
                f"{db_path} already exists; the demo builds a new database (remove it or pass another --db)"
            )
    else:
        db_path = out / "autosales.duckdb"
        for stale in (db_path, Path(str(db_path) + ".wal")):
            stale.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    project_dir = demo_project(out)

    echo(f"1/4 Generating AutoSales usage events up to {as_of} in {out}")
    jsonl, retry = write_event_files(out, until)

    echo("2/4 Landing events (a JSONL file, then a client's retried batch as CSV)")
    echo("    " + describe(ingest(db_path, [str(jsonl)])).replace("\n", "\n    "))
    echo("    " + describe(ingest(db_path, [str(retry)])).replace("\n", "\n    "))

    echo(f"3/4 dbt build as of {as_of} in {project_dir}")
    result = DbtProject(project_dir, db_path).build(as_of=as_of)
    if not result.success:
        raise BillingError("dbt build failed:\n" + "\n".join(result.problems))
    echo(f"    {result.describe()}")

    csv_path, invoices, lines = export_invoices(db_path, EXPORT_PERIOD, "csv", out)
    echo(f"4/4 Exported {invoices} invoice(s), {lines} line(s) for {EXPORT_PERIOD} to {csv_path}")
    echo("")
    echo(summary(db_path))
    echo("")
    echo(f"Query it: BILLING_DB={db_path} (tables main.fct_invoices, main.fct_invoice_line_items, ...)")
    return db_path


def summary(db_path: Path) -> str:
    con = connect(db_path, read_only=True)
    try:
        outcomes = con.execute("""
            select outcome, coalesce(reason, '') as reason, count(*) from main.fct_event_outcomes
            group by all order by 1, 2""").fetchall()
        invoices = con.execute("""
            select c.name, i.contract_name, i.invoice_type,
                   strftime(coalesce(i.period_starting_at, i.issued_at), '%Y-%m-%d') as starts,
                   i.status, i.total, i.line_count
            from main.fct_invoices i join main.stg_customers c using (customer_id)
            order by c.name, coalesce(i.period_starting_at, i.issued_at), i.invoice_type desc""").fetchall()
        balances = con.execute("""
            select c.name, b.name, b.balance_type, b.status, b.amount, b.consumed_amount,
                   b.expired_amount + b.trued_up_amount, b.remaining_amount
            from main.fct_balances b join main.stg_customers c using (customer_id)
            order by c.name, b.drawdown_rank""").fetchall()
    finally:
        con.close()
    rows = ["Event outcomes:"]
    rows += [f"  {outcome:<10} {reason:<24} {n:>7,}" for outcome, reason, n in outcomes]
    rows.append("")
    rows.append(f"  {'customer':<16} {'contract':<16} {'type':<9} {'from':<10} {'status':<9} {'total':>10}  lines")
    for name, contract, kind, starts, status, total, line_count in invoices:
        rows.append(f"  {name:<16} {contract:<16} {kind:<9} {starts:<10} {status:<9} {cell(total):>10}  {line_count}")
    if balances:
        rows.append("")
        rows.append(
            f"  {'customer':<16} {'balance':<24} {'type':<15} {'status':<8} {'amount':>8} {'used':>8} "
            f"{'expired/trued up':>16} {'left':>8}"
        )
        for name, balance, kind, status, amount, used, closed, left in balances:
            rows.append(
                f"  {name:<16} {balance[:24]:<24} {kind:<15} {status:<8} {cell(amount):>8} {cell(used):>8} "
                f"{cell(closed):>16} {cell(left):>8}"
            )
    return "\n".join(rows)
