"""The report `billing build` ends with (issue #18): what a finance person reads after a build.

Everything is read from the warehouse after the build, never computed from events in Python:
event outcomes (fct_event_outcomes), invoices by type and status (fct_invoices), the invoices this
build stored (invoice_store rows stamped with its invocation id, DECISIONLOG D43), late adjustments
(fct_invoice_line_items), alert firings it recorded (alert_state_changes), catalog and usage
problems (int_catalog_problems, int_usage_problems) and metrics whose `property` no event of their
event types has carried. "New" events are those loaded after the watermark the event models had
applied before the build (billing_event_batches, DECISIONLOG D32): what this build brought in.

`BuildSummary` is rendered as text (`describe()`) or JSON (`to_json()`, money as exact decimal
text) for schedulers. `RejectionLimit` is `--max-rejections`: a count (`10`) or a share (`0.5%`) of
the new events.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from .currency import format_money
from .db import connect, has_table
from .tables import cell, render_table

EXIT_REJECTIONS = 3  # `billing build` exit code when the new events' rejections exceed --max-rejections


@dataclass(frozen=True)
class RejectionLimit:
    """At most `count` rejected new events, or at most `percent` % of the new events."""

    text: str
    count: int | None = None
    percent: Decimal | None = None

    @classmethod
    def parse(cls, text: str) -> RejectionLimit:
        value = text.strip()
        if re.fullmatch(r"\d+", value):
            return cls(value, count=int(value))
        m = re.fullmatch(r"(\d+(?:\.\d+)?)%", value)
        if m and Decimal(m.group(1)) <= 100:
            return cls(value, percent=Decimal(m.group(1)))
        raise ValueError(f"{text!r} is neither a number of events (e.g. 10) nor a share of them (e.g. 0.5%)")

    def exceeded(self, rejected: int, total: int) -> bool:
        if self.count is not None:
            return rejected > self.count
        return total > 0 and Decimal(rejected) * 100 > self.percent * total


@dataclass
class OutcomeCount:
    outcome: str
    reason: str | None
    events: int  # in the warehouse
    new: int  # loaded since the previous build


@dataclass
class InvoiceGroup:
    invoice_type: str
    status: str
    currency: str
    invoices: int
    total: Decimal


@dataclass
class CurrencyTotal:
    currency: str
    count: int  # invoices, or lines for late adjustments
    amount: Decimal


MIDNIGHT = re.compile(r" 00:00:00(\.0+)?$")  # a period's window key ends with its start, shown as a date


@dataclass
class AlertFiring:
    alert_id: str
    alert_type: str
    customer_id: str
    threshold: Decimal | None
    current_value: Decimal | None
    window_key: str | None = None  # the period for spend and usage alerts (D69), the invoice for totals
    currency: str | None = None  # money alerts (D68); None for usage counts

    def amount(self, value: Decimal | None) -> str:
        return format_money(value, self.currency) if self.currency and value is not None else cell(value)


@dataclass
class CatalogProblem:
    seed: str
    row_key: str | None
    problem: str

    def describe(self) -> str:
        return f"seed={self.seed}, row_key={self.row_key}, problem={self.problem}"


@dataclass
class BuildSummary:
    success: bool
    elapsed_seconds: float
    nodes: dict[str, int]
    invocation_id: str | None = None
    as_of: datetime | None = None
    events: list[OutcomeCount] = field(default_factory=list)
    invoices: list[InvoiceGroup] = field(default_factory=list)
    finalized: list[CurrencyTotal] = field(default_factory=list)  # invoices stored by this build
    late_adjustments: list[CurrencyTotal] = field(default_factory=list)
    alerts_fired: list[AlertFiring] = field(default_factory=list)
    catalog_problems: list[CatalogProblem] = field(default_factory=list)
    usage_problems: int = 0  # usage lines whose invoice is held (D57, D58)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why the build failed
    rejection_limit: str | None = None
    rejections_exceeded: bool = False

    # -- figures ---------------------------------------------------------------------------------
    def new_events(self) -> tuple[int, int]:
        """(rejected, all) among the events loaded since the previous build."""
        return sum(o.new for o in self.events if o.outcome == "rejected"), sum(o.new for o in self.events)

    def apply_limit(self, limit: RejectionLimit | None) -> None:
        if limit is not None:
            self.rejection_limit = limit.text
            self.rejections_exceeded = limit.exceeded(*self.new_events())

    def exit_code(self) -> int:
        """0 ok, 1 the build failed, EXIT_REJECTIONS (3) more new events rejected than --max-rejections."""
        if not self.success:
            return 1
        return EXIT_REJECTIONS if self.rejections_exceeded else 0

    # -- rendering -------------------------------------------------------------------------------
    def to_json(self) -> str:
        rejected, new = self.new_events()
        doc = asdict(self)
        doc["new_events"] = {"events": new, "rejected": rejected}
        return json.dumps(doc, default=_json_value, indent=2)

    def describe(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(self.nodes.items()))
        as_of = f", as of {self.as_of:%Y-%m-%d %H:%M:%S} UTC" if self.as_of else ""
        verdict = "succeeded" if self.success else "failed"
        out = [f"dbt build {verdict}: {counts} ({self.elapsed_seconds:.1f} s{as_of})"]
        out += self._events()
        out += self._invoices()
        out += self._alerts_and_problems()
        if self.warnings:
            out += ["", "Warnings:", *self.warnings]
        if self.problems:
            out += ["", "Problems:", *self.problems]
        return "\n".join(out)

    def _events(self) -> list[str]:
        if not self.events:
            return ["", "Events: none yet."]
        rows: list[tuple] = []
        for outcome in ("metered", "unmetered", "duplicate", "rejected"):
            group = [o for o in self.events if o.outcome == outcome]
            if not group:
                continue
            rows.append((outcome, sum(o.events for o in group), sum(o.new for o in group)))
            if outcome == "rejected":
                rows += [(f"  {o.reason or '(no reason)'}", o.events, o.new) for o in group]
        rejected, new = self.new_events()
        out = ["", "Events (new: loaded since the previous build):"]
        out.append(render_table(["outcome", "events", "new"], rows))
        if self.rejection_limit:
            verdict = "EXCEEDS" if self.rejections_exceeded else "within"
            out.append(
                f"  {rejected} of {new} new event(s) rejected: {verdict} --max-rejections {self.rejection_limit}"
            )
        return out

    def _invoices(self) -> list[str]:
        out = [""]
        if self.invoices:
            out.append("Invoices:")
            out.append(
                render_table(
                    ["type", "status", "currency", "invoices", "total"],
                    [
                        (g.invoice_type, g.status, g.currency, g.invoices, format_money(g.total, g.currency))
                        for g in self.invoices
                    ],
                )
            )
        else:
            out.append("Invoices: none.")
        out.append("Finalized by this build: " + _per_currency(self.finalized, "invoice(s)"))
        out.append("Late usage adjustments: " + _per_currency(self.late_adjustments, "line(s)"))
        return out

    def _alerts_and_problems(self) -> list[str]:
        out = ["", f"Alerts fired by this build: {len(self.alerts_fired) or 'none'}"]
        for a in self.alerts_fired:
            window = f" [{MIDNIGHT.sub('', a.window_key)}]" if a.window_key else ""
            out.append(
                f"  {a.alert_id} ({a.alert_type}) for {a.customer_id}{window}: "
                f"value {a.amount(a.current_value)}, threshold {a.amount(a.threshold)}"
            )
        out.append(f"Catalog problems: {len(self.catalog_problems) or 'none'}")
        out += [f"  {p.describe()}" for p in self.catalog_problems]
        if self.usage_problems:
            out.append(f"Usage problems: {self.usage_problems} line(s) hold their invoice (see the warnings)")
        return out


def _per_currency(totals: list[CurrencyTotal], unit: str) -> str:
    if not totals:
        return "none"
    return "; ".join(f"{t.count} {unit}, {format_money(t.amount, t.currency)} ({t.currency})" for t in totals)


def _json_value(value):
    if isinstance(value, Decimal):
        return cell(value)  # exact; money with cents at least, as the tables show it (D70): 1.20
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# -- reading the warehouse -------------------------------------------------------------------------

OUTCOMES = """
select outcome, reason, count(*) as events,
       count(*) filter (where cast(? as timestamp) is null or loaded_at > cast(? as timestamp)) as new
from main.fct_event_outcomes
group by outcome, reason
order by outcome, reason nulls first
"""
# the same counts from fct_event_load_summary (a row per load, outcome and reason; its reason is empty
# where the outcomes' is null), when this build updated it: its rows are the loads, not every event
# ever loaded, which OUTCOMES reads at every build (3.4 s at 100 M events; DECISIONLOG D91)
LOAD_OUTCOMES = """
select outcome, nullif(reason, '') as reason, sum(event_count) as events,
       coalesce(sum(event_count) filter (where cast(? as timestamp) is null or loaded_at > cast(? as timestamp)), 0)
from main.fct_event_load_summary
group by all
order by outcome, reason nulls first
"""
LOAD_SUMMARY_BUILT = """
select count(*) from main.billing_build_plans
where invocation_id = ? and model_name = 'fct_event_load_summary' and decision <> 'skipped'
"""
INVOICES = """
select invoice_type, status, coalesce(currency, 'USD'), count(*), sum(total)
from main.fct_invoices
group by all
order by 1 desc, 2, 3
"""
FINALIZED = """
select coalesce(currency, 'USD'), count(*), sum(total)
from main.invoice_store
where record_type = 'invoice' and stored_by_invocation_id = ?
group by all
order by 1
"""
LATE = """
select coalesce(i.currency, 'USD'), count(*), sum(l.amount)
from main.fct_invoice_line_items l
join main.fct_invoices i using (invoice_id)
where l.line_type = 'late_usage_adjustment'
group by all
order by 1
"""
ALERTS = """
select alert_id, alert_type, customer_id, threshold, current_value, nullif(window_key, ''), currency
from main.alert_state_changes
where recorded_by_invocation_id = ? and state = 'in_alarm'
order by alert_id, customer_id, window_key
"""
AS_OF = "select billing_as_of from main.build_log where invocation_id = ?"
CATALOG = "select seed, row_key, problem from main.int_catalog_problems order by seed, row_key, problem"
USAGE_PROBLEMS = "select count(*) from main.int_usage_problems"
WATERMARK = "select watermark_loaded_at from main.billing_event_batches where model_name = 'fct_event_outcomes'"


def events_watermark(db_path: Path) -> datetime | None:
    """The newest loaded_at fct_event_outcomes had processed: read before a build, it tells the
    events that build brings in. None before the first build."""
    if not db_path.exists():
        return None
    con = connect(db_path)
    try:
        if not has_table(con, "main", "billing_event_batches"):
            return None
        row = con.execute(WATERMARK).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def catalog_problems(db_path: Path) -> list[CatalogProblem]:
    """The rows of int_catalog_problems (seed file, row, problem), as the last build left them."""
    con = connect(db_path, read_only=True)
    try:
        return (
            [CatalogProblem(*r) for r in con.execute(CATALOG).fetchall()]
            if has_table(con, "main", "int_catalog_problems")
            else []
        )
    finally:
        con.close()


def read_summary(
    db_path: Path,
    result,
    elapsed: float,
    watermark: datetime | None,
    metrics: list | None = None,
) -> BuildSummary:
    """The summary of the build `result` (a BuildResult) from the warehouse it built."""
    summary = BuildSummary(
        success=result.success,
        elapsed_seconds=round(elapsed, 1),
        nodes=dict(result.counts),
        invocation_id=result.invocation_id,
        warnings=list(result.warnings),
        problems=[] if result.success else list(result.problems),
    )
    con = connect(db_path, read_only=True)
    try:

        def exists(name: str) -> bool:
            return has_table(con, "main", name)

        if exists("int_catalog_problems"):
            summary.catalog_problems = [CatalogProblem(*r) for r in con.execute(CATALOG).fetchall()]
        if not result.success:  # the marts may hold this build's tables and the last one's: no figures
            return summary
        inv = result.invocation_id
        if exists("build_log") and inv:
            row = con.execute(AS_OF, [inv]).fetchone()
            summary.as_of = row[0] if row else None
        if exists("fct_event_outcomes"):
            query = LOAD_OUTCOMES if _load_summary_built(con, inv) else OUTCOMES
            summary.events = [OutcomeCount(*r) for r in con.execute(query, [watermark, watermark]).fetchall()]
        if exists("fct_invoices"):
            summary.invoices = [InvoiceGroup(*r) for r in con.execute(INVOICES).fetchall()]
            if exists("fct_invoice_line_items"):
                summary.late_adjustments = [CurrencyTotal(*r) for r in con.execute(LATE).fetchall()]
        if exists("invoice_store") and inv:
            summary.finalized = [CurrencyTotal(*r) for r in con.execute(FINALIZED, [inv]).fetchall()]
        if exists("alert_state_changes") and inv:
            summary.alerts_fired = [AlertFiring(*r) for r in con.execute(ALERTS, [inv]).fetchall()]
        if exists("int_usage_problems"):
            summary.usage_problems = con.execute(USAGE_PROBLEMS).fetchone()[0]
        if metrics and exists("int_events_deduplicated"):
            summary.warnings += unseen_properties(con, metrics)
    finally:
        con.close()
    return summary


def _load_summary_built(con, invocation: str | None) -> bool:
    """Whether the build `invocation` updated fct_event_load_summary (its plan row is not skipped)."""
    tables = ("fct_event_load_summary", "billing_build_plans")
    if not (invocation and all(has_table(con, "main", name) for name in tables)):
        return False
    return con.execute(LOAD_SUMMARY_BUILT, [invocation]).fetchone()[0] > 0


def unseen_properties(con, metrics: list) -> list[str]:
    """A warning for each metric whose `property` no event of its event types has ever carried
    (while such events exist): a misspelled property meters nothing, silently. Only metrics without
    a single match in int_metric_events are looked for in the events (a scan of their JSON). A match
    is looked up per metric, stopping at the first (a metric with matches costs a few rows of the
    history, not all of it)."""
    checked = [m for m in metrics if m.property and m.event_types]
    if checked and has_table(con, "main", "int_metric_events"):
        probe = "(select 1 from main.int_metric_events where billable_metric = ? limit 1) is not null"
        found = con.execute("select " + ", ".join([probe] * len(checked)), [m.name for m in checked]).fetchone()
        checked = [m for m, matched in zip(checked, found, strict=True) if not matched]
    if not checked:
        return []
    columns = []
    params: list = []
    for m in checked:
        types = ", ".join("?" for _ in m.event_types)
        columns.append(f"count(*) filter (where event_type in ({types}))")
        columns.append(f"count(*) filter (where event_type in ({types}) and json_extract(properties, ?) is not null)")
        params += [*m.event_types, *m.event_types, f'$."{m.property}"']
    row = con.execute(
        f"select {', '.join(columns)} from main.int_events_deduplicated where format_rejection_reason is null", params
    ).fetchone()
    warnings = []
    for i, m in enumerate(checked):
        events, carried = row[2 * i], row[2 * i + 1]
        if events and not carried:
            types = " or ".join(repr(t) for t in m.event_types)
            warnings.append(
                f"- metric {m.name}: none of the {events} {types} event(s) carries property {m.property!r}, "
                "so it meters nothing (misspelled in billable_metrics.yml?)"
            )
    return warnings
