"""`billing alerts deliver`: alert firings as signed webhooks, at least once (DECISIONLOG D34).

Each firing (a row of `alert_state_changes` with state 'in_alarm') becomes one notification
`{id, type, properties}` whose id is the firing's stable state_change_id, so a receiver that sees
it twice (a retry, or a second run after a lost acknowledgement) can drop the copy.

Signing: header `Billing-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
A receiver recomputes the HMAC over the timestamp and the raw body, compares in constant time and
rejects timestamps older than a few minutes (replays).

Delivery: to a URL, POST with retries and exponential backoff on network errors, 408, 429 and 5xx;
each acknowledged (2xx) notification is recorded in billing_audit.alert_deliveries for that
destination and not sent there again. To a folder, `<id>.json` holds the body and
`<id>.headers.json` the headers. What fails stays pending for the next run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable

from .db import connect, has_table
from .errors import BillingError

SIGNATURE_HEADER = "Billing-Signature"
ID_HEADER = "Billing-Webhook-Id"
DELIVERIES = "billing_audit.alert_deliveries"
RETRY_STATUSES = {408, 425, 429}

PENDING = f"""
select c.state_change_id, c.alert_id, c.alert_type, c.customer_id, c.billable_metric, c.threshold,
       c.current_value, c.window_key, c.changed_at
from main.alert_state_changes as c
where c.state = 'in_alarm'
  and c.state_change_id not in (select notification_id from {DELIVERIES} where destination = ?)
order by c.changed_at, c.state_change_id
"""


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # id -> last error
    attempts: int = 0


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def notification(row: tuple) -> dict:
    (change_id, alert_id, alert_type, customer_id, metric, threshold, value, window_key, changed_at) = row
    properties = {
        "alert_id": alert_id,
        "customer_id": customer_id,
        "threshold": _text(threshold),
        "value": _text(value),
        "window_key": window_key,
        "fired_at": _text(changed_at),
    }
    if metric is not None:
        properties["billable_metric"] = metric
    return {"id": change_id, "type": alert_type, "properties": properties}


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float | None = None, tolerance_seconds: int = 300) -> bool:
    """True when `header` is a valid signature of `body` made within the tolerance."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _ensure_log(con) -> None:
    con.execute("create schema if not exists billing_audit")
    con.execute(f"""create table if not exists {DELIVERIES} (
        notification_id varchar, destination varchar, delivered_at timestamp, attempts integer,
        response_status integer)""")


def pending(con, destination: str) -> list[dict]:
    if not has_table(con, "main", "alert_state_changes"):
        raise BillingError("no alert_state_changes table yet (define alerts.yml, run `billing compile` and "
                           "`billing build` first)")
    _ensure_log(con)
    return [notification(r) for r in con.execute(PENDING, [destination]).fetchall()]


def _post(url: str, body: bytes, headers: dict, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - user's own endpoint
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def _send_with_retries(url: str, payload: dict, secret: str, max_attempts: int, backoff: float, timeout: float,
                       sleep: Callable[[float], None], report: DeliveryReport) -> tuple[bool, int, int | None, str]:
    body = body_bytes(payload)
    error, status = "", None
    for attempt in range(1, max_attempts + 1):
        report.attempts += 1
        headers = {"Content-Type": "application/json", ID_HEADER: payload["id"],
                   SIGNATURE_HEADER: sign(secret, int(time.time()), body)}
        try:
            status = _post(url, body, headers, timeout)
        except (urllib.error.URLError, OSError) as e:
            status, error = None, f"{type(e).__name__}: {getattr(e, 'reason', e)}"
        else:
            if 200 <= status < 300:
                return True, attempt, status, ""
            error = f"HTTP {status}"
            if status < 500 and status not in RETRY_STATUSES:
                return False, attempt, status, error + " (not retried)"
        if attempt < max_attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return False, max_attempts, status, error


def deliver(db_path: Path, to: str, secret: str | None, max_attempts: int = 5, backoff: float = 1.0,
            timeout: float = 10.0, sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    if not secret:
        raise BillingError("no signing secret: set BILLING_WEBHOOK_SECRET (or pass --secret-env NAME)")
    if max_attempts < 1:
        raise BillingError("--max-attempts must be at least 1")
    is_url = to.startswith(("http://", "https://"))
    destination = to if is_url else str(Path(to).resolve())
    if not is_url and not Path(to).is_dir():
        raise BillingError(f"--to {to}: not a URL (http:// or https://) nor an existing folder")
    report = DeliveryReport()
    con = connect(db_path)
    try:
        for payload in pending(con, destination):
            if is_url:
                ok, attempts, status, error = _send_with_retries(
                    to, payload, secret, max_attempts, backoff, timeout, sleep, report)
            else:
                body = body_bytes(payload)
                headers = {ID_HEADER: payload["id"], SIGNATURE_HEADER: sign(secret, int(time.time()), body)}
                Path(destination, f"{payload['id']}.json").write_bytes(body)
                Path(destination, f"{payload['id']}.headers.json").write_text(json.dumps(headers, indent=2))
                ok, attempts, status, error = True, 1, None, ""
                report.attempts += 1
            if ok:
                con.execute(f"insert into {DELIVERIES} values (?, ?, ?, ?, ?)", [
                    payload["id"], destination, datetime.now(timezone.utc).replace(tzinfo=None), attempts, status])
                report.delivered.append(payload["id"])
            else:
                report.failed[payload["id"]] = error
    finally:
        con.close()
    return report
