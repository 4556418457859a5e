"""alerts.yml: Metronome's alert types, validated and compiled into `models/alerts/` (DECISIONLOG D34).

alerts:
  - id: acme-spend-500              # unique; part of every notification's id
    type: spend_threshold_reached
    threshold: 500                  # in the contract's currency (usage: in metric units)
    customer_ids: [cus_acme]        # optional; default every customer
  - id: emails-10k
    type: usage_threshold_reached
    billable_metric: emails_generated
    threshold: 10000
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from .errors import BillingError
from .metrics import GENERATED_MARKER, _env, _Yaml12Loader, parse_named_list

ALERTS_DIR = Path("models") / "alerts"
MODEL = ALERTS_DIR / "int_alert_definitions.sql"
ALERT_TYPES = (
    "spend_threshold_reached",
    "usage_threshold_reached",
    "low_credit_balance_reached",
    "low_remaining_commit_balance_reached",
    "invoice_total_reached",
)
KEYS = {"id", "type", "threshold", "billable_metric", "customer_ids", "description"}
SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:@/+-]{1,200}$")


@dataclass(frozen=True)
class Alert:
    alert_id: str
    alert_type: str
    threshold: Decimal
    billable_metric: str | None
    customer_ids: tuple[str, ...]


def _safe(value, where: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not SAFE_TEXT.match(str(value)):
        raise BillingError(f"{where}: {value!r} must be text of letters, digits and _ . : @ / + - (at most 200)")
    return str(value)


def parse_alert(raw, index: int, metrics: dict[str, str] | None) -> Alert:
    if not isinstance(raw, dict):
        raise BillingError(f"alerts[{index}] must be a mapping, got {type(raw).__name__}")
    name = raw.get("id")
    where = f"alert '{name}'" if isinstance(name, str) and name else f"alerts[{index}]"
    unknown = set(raw) - KEYS
    if unknown:
        raise BillingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(KEYS))})")
    if name is None:
        raise BillingError(f"{where}: 'id' is required")
    alert_id = _safe(name, f"{where}: id")
    alert_type = raw.get("type")
    if alert_type not in ALERT_TYPES:
        raise BillingError(f"{where}: type {alert_type!r} is not one of {', '.join(ALERT_TYPES)}")
    threshold = _threshold(raw, where)
    metric = _alert_metric(raw, alert_type, metrics, where)
    customer_ids = _customer_ids(raw.get("customer_ids"), where)
    return Alert(alert_id, alert_type, threshold, metric, customer_ids)


def _threshold(raw: dict, where: str) -> Decimal:
    if "threshold" not in raw or isinstance(raw["threshold"], bool):
        raise BillingError(f"{where}: 'threshold' (a number) is required")
    try:
        threshold = Decimal(str(raw["threshold"]).strip())
    except InvalidOperation:
        raise BillingError(f"{where}: threshold {raw['threshold']!r} is not a number") from None
    if not threshold.is_finite() or threshold < 0 or abs(threshold) >= Decimal(10) ** 20:
        raise BillingError(f"{where}: threshold {raw['threshold']!r} must be a number >= 0 and below 10^20")
    return threshold


def _alert_metric(raw: dict, alert_type: str, metrics: dict[str, str] | None, where: str) -> str | None:
    metric = raw.get("billable_metric")
    if alert_type != "usage_threshold_reached":
        if metric is not None:
            raise BillingError(f"{where}: 'billable_metric' applies only to usage_threshold_reached")
        return None
    if not metric:
        raise BillingError(f"{where}: usage_threshold_reached needs 'billable_metric'")
    metric = _safe(metric, f"{where}: billable_metric")
    if metrics is not None and metric not in metrics:
        raise BillingError(f"{where}: billable_metric '{metric}' is not defined in billable_metrics.yml")
    if metrics is not None and metrics[metric] == "sql":
        raise BillingError(
            f"{where}: billable_metric '{metric}' is a SQL metric; usage alerts support "
            "count, sum, max, unique and latest metrics"
        )
    return metric


def _customer_ids(customers, where: str) -> tuple[str, ...]:
    if customers is None:
        return ()
    if not isinstance(customers, list) or not customers:
        raise BillingError(f"{where}: customer_ids must be a non-empty list (leave it out for every customer)")
    return tuple(_safe(c, f"{where}: customer_ids") for c in customers)


def load_alerts(path: Path, metrics: dict[str, str] | None = None) -> list[Alert]:
    """The alerts of `path` (metrics: billable metric name -> aggregation); no file means no alerts."""
    if not path.exists():
        return []
    try:
        doc = yaml.load(path.read_text(), Loader=_Yaml12Loader) or {}
    except yaml.YAMLError as e:
        raise BillingError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("alerts", []), list) or set(doc) - {"alerts"}:
        raise BillingError(f"{path}: expected only a top-level 'alerts:' list")
    return parse_named_list(
        path, doc.get("alerts") or [], lambda raw, i: parse_alert(raw, i, metrics), lambda a: a.alert_id, "alert"
    )


def render_alerts_model(alerts: list[Alert]) -> str:
    rows = [
        {
            "alert_id": a.alert_id,
            "alert_type": a.alert_type,
            "threshold": format(a.threshold, "f"),
            "billable_metric": a.billable_metric,
            "customer_id": c,
        }
        for a in alerts
        for c in (a.customer_ids or (None,))
    ]
    return _env.get_template("alert_definitions.sql.j2").render(rows=rows, marker=GENERATED_MARKER)


def compiled_files(alerts: list[Alert]) -> dict[Path, str]:
    return {MODEL: render_alerts_model(alerts)}
