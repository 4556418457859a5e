"""Voiding and regenerating a final invoice: the one deliberate way to change one (DECISIONLOG D31).

`void_invoice` appends a 'void' row for the invoice's current version to the append-only invoice
store (DECISIONLOG D43: nothing stored is ever deleted) and writes the voided version to
`billing_audit.invoice_audit_log`; the next build re-rates the period from the current events and
catalog and stores it as the next version (it is past its finalization time), and
`record_regenerated` logs that new version. Both versions stay in the store and in the audit log.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

from .db import connect, has_table
from .errors import BillingError

AUDIT_TABLE = "billing_audit.invoice_audit_log"
STORE_TABLE = "main.invoice_store"


def _ensure_audit_table(con) -> None:
    con.execute("create schema if not exists billing_audit")
    con.execute(f"""create table if not exists {AUDIT_TABLE} (
        audit_id varchar, invoice_id varchar, action varchar, reason varchar, actor varchar,
        acted_at timestamp, invoice_version varchar)""")


def _version(con, invoice_id: str) -> dict | None:
    """The stored invoice with its lines, as plain JSON-able data; None when it is not stored."""
    if not has_table(con, "main", "finalized_invoices"):
        return None
    cursor = con.execute("select * from main.finalized_invoices where invoice_id = ?", [invoice_id])
    row = cursor.fetchone()
    if row is None:
        return None
    invoice = dict(zip([d[0] for d in cursor.description], row))
    cursor = con.execute("select * from main.finalized_invoice_line_items where invoice_id = ? "
                         "order by line_item_id", [invoice_id])
    names = [d[0] for d in cursor.description]
    invoice["line_items"] = [dict(zip(names, r)) for r in cursor.fetchall()]
    return invoice


def _log(con, invoice_id: str, action: str, reason: str, actor: str, version: dict) -> None:
    _ensure_audit_table(con)
    con.execute(f"insert into {AUDIT_TABLE} values (?, ?, ?, ?, ?, ?, ?)", [
        str(uuid.uuid4()), invoice_id, action, reason, actor,
        datetime.now(timezone.utc).replace(tzinfo=None), json.dumps(version, default=str, sort_keys=True)])


def void_invoice(db_path: Path, invoice_id: str, reason: str, actor: str) -> dict:
    """Remove a final invoice from the store, logging it; returns the voided version."""
    if not reason or not reason.strip():
        raise BillingError("a reason is required to void an invoice")
    con = connect(db_path)
    try:
        version = _version(con, invoice_id)
        if version is None:
            raise BillingError(f"invoice {invoice_id} is not a finalized invoice (only those can be voided; "
                               "a DRAFT changes with every build)")
        con.execute("begin transaction")
        try:
            _log(con, invoice_id, "VOIDED", reason.strip(), actor, version)
            con.execute(f"""insert into {STORE_TABLE}
                (record_type, invoice_id, invoice_version, contract_id, stored_at, void_reason, voided_by)
                values ('void', ?, ?, ?, ?, ?, ?)""", [
                invoice_id, version["invoice_version"], version["contract_id"],
                datetime.now(timezone.utc).replace(tzinfo=None), reason.strip(), actor])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        return version
    finally:
        con.close()


def record_regenerated(db_path: Path, invoice_id: str, reason: str, actor: str) -> dict | None:
    """Log the regenerated version after a build; None when the build did not store it again."""
    con = connect(db_path)
    try:
        version = _version(con, invoice_id)
        if version is not None:
            _log(con, invoice_id, "REGENERATED", reason.strip(), actor, version)
        return version
    finally:
        con.close()


def audit_log(db_path: Path, invoice_id: str | None = None) -> list[dict]:
    con = connect(db_path, read_only=True)
    try:
        if not has_table(con, "billing_audit", "invoice_audit_log"):
            return []
        where = "where invoice_id = ?" if invoice_id else ""
        cursor = con.execute(f"select * from {AUDIT_TABLE} {where} order by acted_at, action desc",
                             [invoice_id] if invoice_id else [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]
    finally:
        con.close()
