"""`billing alerts deliver`: alert firings as signed webhooks, at least once (DECISIONLOG D34).

Each firing (a row of `alert_state_changes` with state 'in_alarm') becomes one notification
`{id, type, properties}` whose id is the firing's stable state_change_id, so a receiver that sees
it twice (a retry, or a second run after a lost acknowledgement) can drop the copy. Properties:
alert_id, customer_id, threshold and value (exact decimal text, at least the currency's minor
units: "500.00", "1500" JPY; DECISIONLOG D68), currency (money alerts), billable_metric (usage
alerts), window_key (the billing period or invoice, D69) and fired_at.

Signing: header `Billing-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
A receiver recomputes the HMAC over the timestamp and the raw body, compares in constant time and
rejects timestamps older than a few minutes (replays).

Delivery: to a URL, POST with retries and exponential backoff on network errors, 408, 429 and 5xx;
each acknowledged notification is recorded in billing_audit.alert_deliveries for that destination and
not sent there again. Acknowledged means a complete 2xx response from the endpoint itself: redirects
are never followed (the signed body must not go to another host; a 3xx is a failure, kept pending),
and a response cut off before its declared body is a failure. `timeout` bounds a whole attempt
(connect, send, status, headers and body). The database is not held while sending: what to send is
read first, the connection closed, and acknowledgements recorded after (DECISIONLOG D52, D53).
To a folder, `<id>.json` holds the body and `<id>.headers.json` the headers (each written
atomically). What fails stays pending for the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from .currency import format_number, minor_units
from .db import connect, has_table
from .errors import BillingError
from .outputs import write_bytes, write_text

SIGNATURE_HEADER = "Billing-Signature"
ID_HEADER = "Billing-Webhook-Id"
DELIVERIES = "billing_audit.alert_deliveries"
RETRY_STATUSES = {408, 425, 429}
MAX_WAIT_SECONDS = 3600.0
READ_CHUNK = 65536

PENDING = f"""
select c.state_change_id, c.alert_id, c.alert_type, c.customer_id, c.billable_metric, c.threshold,
       c.current_value, c.window_key, c.changed_at, {{currency}}
from main.alert_state_changes as c
where c.state = 'in_alarm'
  and c.state_change_id not in (select notification_id from {DELIVERIES} where destination = ?)
order by c.changed_at, c.state_change_id
"""


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # id -> last error
    attempts: int = 0


def _text(value, currency: str | None = None) -> str | None:
    """JSON text of a value: a Decimal exactly, without trailing zeros beyond the currency's minor
    units (`100.00` USD, `1000` JPY) or, without a currency (a metric quantity), beyond its last
    significant digit (`10000`, `2.5`): never `500.0000000000` (DECISIONLOG D68)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format_number(value, minor_units(currency) if currency else 0).replace(",", "")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def notification(row: tuple) -> dict:
    (change_id, alert_id, alert_type, customer_id, metric, threshold, value, window_key, changed_at, currency) = row
    properties = {
        "alert_id": alert_id,
        "customer_id": customer_id,
        "threshold": _text(threshold, currency),
        "value": _text(value, currency),
        "window_key": window_key,
        "fired_at": _text(changed_at),
    }
    if metric is not None:
        properties["billable_metric"] = metric
    if currency is not None:
        properties["currency"] = currency
    return {"id": change_id, "type": alert_type, "properties": properties}


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _require_secret(secret) -> None:
    if not isinstance(secret, str) or not secret:
        raise ValueError("empty webhook secret: refusing to sign or verify with it (set the shared secret)")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`; an empty secret is a ValueError."""
    _require_secret(secret)
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float | None = None, tolerance_seconds: int = 300) -> bool:
    """True when `header` is a valid signature of `body` made within the tolerance. A malformed header
    (not ASCII, missing parts) is False; an empty secret is a ValueError (a misconfigured receiver
    must fail loudly rather than accept signatures anyone can make)."""
    _require_secret(secret)
    if not isinstance(header, str) or not header.isascii():
        return False
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        if not parts["t"].isdigit():
            return False
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
        raise BillingError(
            "no alert_state_changes table yet (define alerts.yml, run `billing compile` and `billing build` first)"
        )
    _ensure_log(con)
    # firings recorded before the currency column existed (DECISIONLOG D68) have none
    has_currency = con.execute(
        "select count(*) from information_schema.columns where table_schema = 'main' "
        "and table_name = 'alert_state_changes' and column_name = 'currency'"
    ).fetchone()[0]
    sql = PENDING.format(currency="c.currency" if has_currency else "cast(null as varchar) as currency")
    return [notification(r) for r in con.execute(sql, [destination]).fetchall()]


class AttemptTimeout(OSError):
    """The whole attempt (connect, send, complete response) took longer than the timeout."""


def _drain(response: http.client.HTTPResponse) -> None:
    """Read (and drop) the whole body; a body cut off before its declared length is an error."""
    while response.read(READ_CHUNK):
        pass
    if response.length:  # http.client leaves what is still missing of Content-Length here
        raise http.client.IncompleteRead(b"", response.length)


def _shutdown(conn: http.client.HTTPConnection) -> None:
    """Unblock the sending thread: shut the TCP socket (the raw one, also under TLS)."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _post(url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST once; the status of a complete response from the endpoint itself (redirects are not
    followed). A watchdog shuts the socket when `timeout` seconds have passed since the start."""
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme.lower() == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _shutdown(conn)

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.connect()
        if expired.is_set():
            raise AttemptTimeout(f"no complete response within {timeout:g} s")
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        _drain(response)
        return response.status
    except (OSError, http.client.HTTPException, ValueError) as e:
        if expired.is_set():
            raise AttemptTimeout(f"no complete response within {timeout:g} s") from None
        if isinstance(e, OSError):
            raise
        raise OSError(f"{type(e).__name__}: {e}") from None
    finally:
        watchdog.cancel()
        conn.close()


def _send_with_retries(
    url: str,
    payload: dict,
    secret: str,
    max_attempts: int,
    backoff: float,
    timeout: float,
    sleep: Callable[[float], None],
    report: DeliveryReport,
) -> tuple[bool, int, int | None, str]:
    body = body_bytes(payload)
    error, status = "", None
    for attempt in range(1, max_attempts + 1):
        report.attempts += 1
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: payload["id"],
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        }
        try:
            status = _post(url, body, headers, timeout)
        except OSError as e:
            status, error = None, f"{type(e).__name__}: {e}"
        else:
            if 200 <= status < 300:
                return True, attempt, status, ""
            error = f"HTTP {status}"
            if 300 <= status < 400:
                return False, attempt, status, error + " (redirects are not followed: --to the final URL)"
            if status < 500 and status not in RETRY_STATUSES:
                return False, attempt, status, error + " (not retried)"
        if attempt < max_attempts:
            sleep(min(backoff * 2 ** (attempt - 1), MAX_WAIT_SECONDS))
    return False, max_attempts, status, error


def _check_destination(to: str) -> tuple[bool, str]:
    """(is_url, destination key): an http(s) URL with a host, or an existing folder."""
    parts = urllib.parse.urlsplit(to) if "://" in to else None
    if parts is not None:
        try:
            host, _ = parts.hostname, parts.port
        except ValueError:
            host = None
        if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in to):
            raise BillingError(f"--to {to}: not a valid http:// or https:// URL")
        return True, to
    if not Path(to).is_dir():
        raise BillingError(f"--to {to}: not a URL (http:// or https://) nor an existing folder")
    return False, str(Path(to).resolve())


def _write_to_folder(folder: str, payload: dict, secret: str) -> None:
    body = body_bytes(payload)
    headers = {ID_HEADER: payload["id"], SIGNATURE_HEADER: sign(secret, int(time.time()), body)}
    write_bytes(Path(folder, f"{payload['id']}.json"), body, "--to")
    write_text(Path(folder, f"{payload['id']}.headers.json"), json.dumps(headers, indent=2), "--to")


def _read_pending(db_path: Path, destination: str) -> list[dict]:
    con = connect(db_path)
    try:
        return pending(con, destination)
    finally:
        con.close()


def _record(db_path: Path, acknowledged: list[list]) -> None:
    """Record acknowledgements after sending (the database was not held meanwhile)."""
    if not acknowledged:
        return
    try:
        con = connect(db_path)
    except BillingError as e:
        raise BillingError(
            f"{len(acknowledged)} notification(s) were delivered but could not be recorded ({e}); "
            "they will be sent again on the next run (receivers dedupe on id)"
        ) from None
    try:
        con.executemany(f"insert into {DELIVERIES} values (?, ?, ?, ?, ?)", acknowledged)
    finally:
        con.close()


def deliver(
    db_path: Path,
    to: str,
    secret: str | None,
    max_attempts: int = 5,
    backoff: float = 1.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send every pending firing to `to` (URL or folder); returns what was delivered and what failed."""
    if not secret:
        raise BillingError("no signing secret: set BILLING_WEBHOOK_SECRET (or pass --secret-env NAME)")
    if max_attempts < 1:
        raise BillingError("--max-attempts must be at least 1")
    if not (0 < timeout <= MAX_WAIT_SECONDS) or not (0 <= backoff <= MAX_WAIT_SECONDS):
        raise BillingError("--timeout must be in (0, 3600] and --backoff in [0, 3600] seconds")
    is_url, destination = _check_destination(to)
    report, acknowledged = DeliveryReport(), []
    for payload in _read_pending(db_path, destination):
        if is_url:
            ok, attempts, status, error = _send_with_retries(
                to, payload, secret, max_attempts, backoff, timeout, sleep, report
            )
        else:
            _write_to_folder(destination, payload, secret)
            ok, attempts, status, error = True, 1, None, ""
            report.attempts += 1
        if ok:
            acknowledged.append([payload["id"], destination, datetime.now(UTC).replace(tzinfo=None), attempts, status])
            report.delivered.append(payload["id"])
        else:
            report.failed[payload["id"]] = error
    _record(db_path, acknowledged)
    return report
