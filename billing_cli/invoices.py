"""Voiding and regenerating a final invoice: the one deliberate way to change one (DECISIONLOG D31, D45).

`void_invoice` appends a 'void' row for the invoice's current version to the append-only invoice
store (DECISIONLOG D43: nothing stored is ever deleted) and writes the voided version to
`billing_audit.invoice_audit_log`; the next build re-rates the period from the current events and
catalog and stores it as the next `invoice_version` (it is past its finalization time), and
`record_regenerated` logs that new version, linked to the voided one (`replaces_version`).

The regenerating build runs as of the last recorded build (`main.build_log`, D45) unless told
otherwise, and `would_also_finalize` rehearses it on a copy of the database first: a void must never
finalize other periods as a side effect.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from .currency import exact_money_text
from .db import connect, has_table
from .errors import BillingError

AUDIT_TABLE = "billing_audit.invoice_audit_log"
STORE_TABLE = "main.invoice_store"
AUDIT_COLUMNS = (
    "audit_id",
    "invoice_id",
    "action",
    "reason",
    "actor",
    "acted_at",
    "invoice_version",
    "version_number",
    "replaces_version",
)


def _ensure_audit_table(con) -> None:
    """The audit log; `invoice_version` holds the version's content (JSON), `version_number` its number
    and `replaces_version` the version it replaced (REGENERATED rows), so both versions are linked."""
    con.execute("create schema if not exists billing_audit")
    con.execute(f"""create table if not exists {AUDIT_TABLE} (
        audit_id varchar, invoice_id varchar, action varchar, reason varchar, actor varchar,
        acted_at timestamp, invoice_version varchar)""")
    for column in ("version_number", "replaces_version"):  # logs written before D45 lack them
        con.execute(f"alter table {AUDIT_TABLE} add column if not exists {column} bigint")


def _total(version: dict) -> str:
    """A stored version's total as exact text with its currency's minor units (`7.00` USD, `700` JPY)."""
    return exact_money_text(Decimal(str(version["total"])), version.get("currency"))


def _version(con, invoice_id: str) -> dict | None:
    """The stored invoice with its lines, as plain JSON-able data; None when it is not stored."""
    if not has_table(con, "main", "finalized_invoices"):
        return None
    cursor = con.execute("select * from main.finalized_invoices where invoice_id = ?", [invoice_id])
    row = cursor.fetchone()
    if row is None:
        return None
    invoice = dict(zip([d[0] for d in cursor.description], row, strict=True))
    cursor = con.execute(
        "select * from main.finalized_invoice_line_items where invoice_id = ? order by line_item_id", [invoice_id]
    )
    names = [d[0] for d in cursor.description]
    invoice["line_items"] = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return invoice


def _log(
    con, invoice_id: str, action: str, reason: str, actor: str, version: dict, replaces_version: int | None = None
) -> None:
    _ensure_audit_table(con)
    con.execute(
        f"insert into {AUDIT_TABLE} ({', '.join(AUDIT_COLUMNS)}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            str(uuid.uuid4()),
            invoice_id,
            action,
            reason,
            actor,
            datetime.now(UTC).replace(tzinfo=None),
            json.dumps(version, default=str, sort_keys=True),
            version["invoice_version"],
            replaces_version,
        ],
    )


def finalized_version(db_path: Path, invoice_id: str) -> dict:
    """The current stored version of a final invoice; an error for anything else (drafts, unknown ids)."""
    con = connect(db_path)
    try:
        version = _version(con, invoice_id)
    finally:
        con.close()
    if version is None:
        raise BillingError(
            f"invoice {invoice_id} is not a finalized invoice (only those can be voided; "
            "a DRAFT changes with every build)"
        )
    return version


def void_invoice(db_path: Path, invoice_id: str, reason: str, actor: str) -> dict:
    """Void the current version of a final invoice (a 'void' row in the store), logging it; returns it."""
    if not reason or not reason.strip():
        raise BillingError("a reason is required to void an invoice")
    version = finalized_version(db_path, invoice_id)
    con = connect(db_path)
    try:
        con.execute("begin transaction")
        try:
            _log(con, invoice_id, "VOIDED", reason.strip(), actor, version)
            con.execute(
                f"""insert into {STORE_TABLE}
                (record_type, invoice_id, invoice_version, contract_id, stored_at, void_reason, voided_by)
                values ('void', ?, ?, ?, ?, ?, ?)""",
                [
                    invoice_id,
                    version["invoice_version"],
                    version["contract_id"],
                    datetime.now(UTC).replace(tzinfo=None),
                    reason.strip(),
                    actor,
                ],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        return version
    finally:
        con.close()


def record_regenerated(
    db_path: Path, invoice_id: str, reason: str, actor: str, voided_version: int | None = None
) -> dict | None:
    """Log the regenerated version after a build, linked to the voided one; None when the build did
    not store it again."""
    con = connect(db_path)
    try:
        version = _version(con, invoice_id)
        if version is None or (voided_version is not None and version["invoice_version"] <= voided_version):
            return None
        _log(con, invoice_id, "REGENERATED", reason.strip(), actor, version, replaces_version=voided_version)
        return version
    finally:
        con.close()


def last_build(db_path: Path) -> dict | None:
    """The last recorded build that could store invoices (not a preview): its billing_as_of and start."""
    con = connect(db_path, read_only=True)
    try:
        if not has_table(con, "main", "build_log"):
            return None
        cursor = con.execute(
            "select billing_as_of, started_at from main.build_log where not is_preview order by started_at desc limit 1"
        )
        row = cursor.fetchone()
        return None if row is None else {"billing_as_of": row[0], "started_at": row[1]}
    finally:
        con.close()


def regeneration_as_of(db_path: Path, as_of: str | None) -> tuple[str, str]:
    """The as-of to regenerate at and where it comes from: the given one, else the last build's."""
    if as_of:
        return as_of, "given with --as-of"
    build = last_build(db_path)
    if build is None:
        raise BillingError(
            "no build is recorded on this database (main.build_log); pass --as-of to say "
            "as of when to regenerate the invoice"
        )
    text = build["billing_as_of"].isoformat() + "Z"
    return text, f"the as-of of the last build, run {build['started_at']:%Y-%m-%d %H:%M:%S} UTC"


def stored_invoices(db_path: Path) -> set[tuple[str, int]]:
    """(invoice_id, invoice_version) of every invoice version in the store."""
    con = connect(db_path)
    try:
        return set(
            con.execute(
                f"select invoice_id, invoice_version from {STORE_TABLE} where record_type = 'invoice'"
            ).fetchall()
        )
    finally:
        con.close()


def describe_stored(db_path: Path, versions: set[tuple[str, int]]) -> list[str]:
    """One line per stored invoice version: id, type, contract and period or issue time."""
    if not versions:
        return []
    con = connect(db_path)
    try:
        rows = con.execute(f"""select invoice_id, invoice_version, invoice_type, contract_id,
                period_starting_at, period_ending_before, issued_at
            from {STORE_TABLE} where record_type = 'invoice' order by issued_at, invoice_id""").fetchall()
    finally:
        con.close()
    described = []
    for invoice_id, version, kind, contract, start, end, issued in rows:
        if (invoice_id, version) in versions:
            when = f"period {start:%Y-%m-%d} to {end:%Y-%m-%d}" if start and end else f"issued {issued:%Y-%m-%d}"
            described.append(f"{invoice_id} ({kind}, contract {contract}, {when})")
    return described


def would_also_finalize(project_dir: Path, db_path: Path, invoice_id: str, as_of: str, dbt=None) -> list[str]:
    """Rehearse the void and the regenerating build on a copy of the database; the invoices that build
    would store besides the voided one (described). An error if the rehearsed build fails."""
    from .build import DbtProject

    con = connect(db_path)
    try:
        con.execute("checkpoint")  # the file alone then holds everything
    finally:
        con.close()
    with tempfile.TemporaryDirectory(prefix="billing-void-") as tmp:
        copy = Path(tmp) / db_path.name  # same file name: same catalog name for dbt
        shutil.copyfile(db_path, copy)
        before = stored_invoices(copy)
        void_invoice(copy, invoice_id, "rehearsal", "billing")
        rehearsal = DbtProject(project_dir, copy)
        if dbt is not None:
            rehearsal._manifest = dbt.parse()
        result = rehearsal.build(as_of=as_of)
        if not result.success:
            raise BillingError(
                "the regenerating build would fail (nothing was changed):\n" + "\n".join(result.problems)
            )
        added = stored_invoices(copy) - before
        if not any(v[0] == invoice_id for v in added):
            raise BillingError(
                f"the regenerating build as of {as_of} would not store {invoice_id} again (a preview "
                "as-of ahead of the clock, or its period is gone from the catalog); nothing was changed"
            )
        return describe_stored(copy, {v for v in added if v[0] != invoice_id})


def void_and_regenerate(
    dbt, invoice_id: str, reason: str, who: str, as_of: str | None, also_finalize: bool, echo=print
) -> dict | None:
    """Void, then build as of the chosen as-of (`dbt`: the project's DbtProject), refusing before any
    change if that build would finalize other invoices (unless `also_finalize`). Returns the new version."""
    db = dbt.db_path
    as_of, source = regeneration_as_of(db, as_of)
    echo(f"Regenerating as of {as_of} ({source}).")
    if not also_finalize:
        others = would_also_finalize(dbt.project_dir, db, invoice_id, as_of, dbt=dbt)
        if others:
            raise BillingError(
                f"refused: regenerating {invoice_id} as of {as_of} would also finalize {len(others)} other "
                "invoice(s):\n  " + "\n  ".join(others) + "\nNothing was changed. Pass an earlier --as-of, "
                "or --also-finalize to finalize them too."
            )
    before = stored_invoices(db)
    old = void_invoice(db, invoice_id, reason, who)
    echo(
        f"Voided invoice {invoice_id} version {old['invoice_version']} (total {_total(old)}); "
        "the old version is in the audit log."
    )
    result = dbt.build(as_of=as_of)
    if not result.success:
        raise BillingError(
            "dbt build failed; the invoice stays voided until a build succeeds:\n" + "\n".join(result.problems)
        )
    new = record_regenerated(db, invoice_id, reason, who, voided_version=old["invoice_version"])
    if new is None:
        echo(f"Invoice {invoice_id} was not regenerated (its period no longer exists or is not final yet).")
    else:
        echo(
            f"Regenerated invoice {invoice_id} as version {new['invoice_version']}: "
            f"total {_total(new)} (was {_total(old)})."
        )
    others = describe_stored(db, {v for v in stored_invoices(db) - before if v[0] != invoice_id})
    if others:
        echo(f"Also finalized {len(others)} other invoice(s):\n  " + "\n  ".join(others))
    return new


def audit_log(db_path: Path, invoice_id: str | None = None) -> list[dict]:
    con = connect(db_path, read_only=True)
    try:
        if not has_table(con, "billing_audit", "invoice_audit_log"):
            return []
        where = "where invoice_id = ?" if invoice_id else ""
        cursor = con.execute(
            f"select * from {AUDIT_TABLE} {where} order by acted_at, action desc", [invoice_id] if invoice_id else []
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
