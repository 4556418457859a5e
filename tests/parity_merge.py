"""Many test scenarios in one project: record what each `prepare(project)` writes, give every id of a
scenario its own prefix, and write them all into one BillingTestProject (tests/test_spark_parity.py
builds the result once per engine instead of once per scenario).

A `RecordingProject` stands in for BillingTestProject with the methods a prepare() uses (seeds,
metrics, ingest) and keeps what it is given. `namespaced` then prefixes, driven by column names and
not by lists of ids, so a scenario added later needs nothing here:
- in the catalog seeds, every value of a column named `*_id` and every element of a list column named
  `*_ids` (composite_product_ids, applicable_product_ids), the customers' ingest_aliases and the
  products' billable_metric;
- in billable_metrics.yml, each metric's name, event_type / event_type_in and, in a SQL metric, the
  literals compared with event_type (`event_type = 'x'`, `<>`, `!=`, `in (...)`); any other use of
  event_type in a SQL metric is refused, since it could not be namespaced;
- in the events, every non-empty string transaction_id, and a customer_id or event_type when it is one
  the scenario's catalog or metrics define (an unknown customer or unmatched event type stays as it is:
  it stays unknown, as every known id now carries a prefix). Raw (unreadable) lines land verbatim.
Each load lands as its own file, so `fct_event_outcomes.source_file` tells which scenario a row came
from, whatever its content.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

from billing_cli.names import SQL_DIALECT

# a SQL string literal ('' is a quote inside it)
_LITERAL = r"'(?:[^']|'')*'"
_EVENT_TYPE_COMPARISON = re.compile(
    rf"(?P<head>\bevent_type\s*(?:=|<>|!=)\s*)(?P<literal>{_LITERAL})"
    rf"|(?P<in_head>\bevent_type\s+(?:not\s+)?in\s*\()(?P<list>\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*)\)",
    re.IGNORECASE,
)


@dataclass
class Load:
    events: list[dict]
    loaded_at: str | datetime | None
    raw_lines: list[str]


@dataclass
class RecordingProject:
    """What a prepare() writes: seeds (the last rows given per table), metrics YAML and loads in order."""

    seed_rows: dict[str, list[dict]] = field(default_factory=dict)
    metrics_yaml: str | None = None
    loads: list[Load] = field(default_factory=list)

    def seeds(self, **tables: list[dict]) -> RecordingProject:
        self.seed_rows.update({name: [dict(row) for row in rows] for name, rows in tables.items()})
        return self

    def metrics(self, yaml_text: str) -> RecordingProject:
        self.metrics_yaml = yaml_text
        return self

    def ingest(self, events: list[dict], loaded_at: str | datetime | None = None, raw_lines: list[str] = ()):
        self.loads.append(Load([dict(e) for e in events], loaded_at, list(raw_lines)))

    def __getattr__(self, name):
        # anything else a prepare() might call (alerts, build, query...): the merge would not carry it
        raise AttributeError(f"RecordingProject cannot record {name!r}: extend tests/parity_merge.py")


def _is_id_column(column: str) -> bool:
    return column.endswith("_id")


def _is_id_list_column(column: str) -> bool:
    return column.endswith("_ids") or column == "ingest_aliases"


def _prefixed(prefix: str, value):
    return f"{prefix}{value}" if isinstance(value, str) and value != "" else value


def _prefixed_list(prefix: str, value):
    if isinstance(value, str) and value.strip().startswith("["):
        value = json.loads(value)  # a list given as its JSON text
    if isinstance(value, list):
        return [_prefixed(prefix, v) for v in value]
    return value


def _namespaced_seeds(prefix: str, seed_rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    out = {}
    for table, rows in seed_rows.items():
        new_rows = []
        for row in rows:
            new = {}
            for column, value in row.items():
                if _is_id_column(column) or column == "billable_metric":
                    value = _prefixed(prefix, value)
                elif _is_id_list_column(column):
                    value = _prefixed_list(prefix, value)
                new[column] = value
            new_rows.append(new)
        out[table] = new_rows
    return out


def _literal_value(literal: str) -> str:
    return literal[1:-1].replace("''", "'")


def _namespaced_sql(prefix: str, name: str, sql: str, event_types: set[str]) -> str:
    """The SQL metric with the event_type literals it compares prefixed (their values added to
    event_types); refuses a SQL metric that uses event_type in any other way."""

    def literal(text: str) -> str:
        event_types.add(_literal_value(text))
        return f"'{prefix}{text[1:]}"

    def rewrite(match: re.Match) -> str:
        if match.group("head") is not None:
            return match.group("head") + literal(match.group("literal"))
        items = re.sub(_LITERAL, lambda m: literal(m.group(0)), match.group("list"))
        return f"{match.group('in_head')}{items})"

    rewritten = _EVENT_TYPE_COMPARISON.sub(rewrite, sql)
    for column in sqlglot.parse_one(rewritten, dialect=SQL_DIALECT).find_all(exp.Column):
        if column.name != "event_type":
            continue
        comparison = column.parent
        if isinstance(comparison, (exp.EQ, exp.NEQ)):
            literals = [comparison.expression if comparison.this is column else comparison.this]
        elif isinstance(comparison, exp.In):
            literals = comparison.expressions
        else:
            literals = []
        if not literals or not all(
            isinstance(v, exp.Literal) and v.is_string and v.this.startswith(prefix) for v in literals
        ):
            raise ValueError(f"SQL metric {name}: cannot namespace its use of event_type: {comparison.sql()}")
    return rewritten


def _namespaced_metrics(prefix: str, yaml_text: str | None) -> tuple[list[dict], set[str]]:
    """The metrics (prefixed) and the event types they match (as sent, before the prefix)."""
    if yaml_text is None:
        return [], set()
    event_types: set[str] = set()
    metrics = []
    for raw in yaml.safe_load(yaml_text)["billable_metrics"] or []:
        metric = dict(raw)
        metric["name"] = prefix + metric["name"]
        if "event_type" in metric:
            event_types.add(metric["event_type"])
            metric["event_type"] = prefix + metric["event_type"]
        if "event_type_in" in metric:
            event_types.update(metric["event_type_in"])
            metric["event_type_in"] = [prefix + t for t in metric["event_type_in"]]
        if "sql" in metric:
            metric["sql"] = _namespaced_sql(prefix, metric["name"], metric["sql"], event_types)
        metrics.append(metric)
    return metrics, event_types


@dataclass
class Scenario:
    """One scenario's catalog, metrics and loads with every id prefixed."""

    name: str
    seed_rows: dict[str, list[dict]]
    metrics: list[dict]
    loads: list[Load]

    @property
    def rows_landed(self) -> int:
        """Rows the scenario lands in raw.usage_events (an event or a non-blank raw line each)."""
        return sum(len(load.events) + sum(1 for line in load.raw_lines if line.strip()) for load in self.loads)


def namespaced(name: str, recorded: RecordingProject) -> Scenario:
    prefix = f"{name}__"
    seed_rows = _namespaced_seeds(prefix, recorded.seed_rows)
    metrics, event_types = _namespaced_metrics(prefix, recorded.metrics_yaml)
    customers = {
        value
        for row in recorded.seed_rows.get("customers", [])
        for value in [row.get("customer_id"), *(_prefixed_list("", row.get("ingest_aliases")) or [])]
        if isinstance(value, str) and value
    }

    def event(e: dict) -> dict:
        e = dict(e)
        if "transaction_id" in e:
            e["transaction_id"] = _prefixed(prefix, e["transaction_id"])
        if isinstance(e.get("customer_id"), str) and e["customer_id"] in customers:
            e["customer_id"] = prefix + e["customer_id"]
        if isinstance(e.get("event_type"), str) and e["event_type"] in event_types:
            e["event_type"] = prefix + e["event_type"]
        return e

    loads = [Load([event(e) for e in load.events], load.loaded_at, load.raw_lines) for load in recorded.loads]
    return Scenario(name, seed_rows, metrics, loads)


def write_merged(project, scenarios: list[Scenario]) -> dict[str, str]:
    """Every scenario's seeds, metrics and loads (in each scenario's order) into one
    BillingTestProject; returns {name of a landed file: its scenario}."""
    tables: dict[str, list[dict]] = {}
    for scenario in scenarios:
        for table, rows in scenario.seed_rows.items():
            tables.setdefault(table, []).extend(rows)
    project.seeds(**tables)
    project.metrics(yaml.safe_dump({"billable_metrics": [m for s in scenarios for m in s.metrics]}, sort_keys=False))
    files = {}
    for scenario in scenarios:
        landed = 0
        for load in scenario.loads:
            summary = project.ingest(load.events, loaded_at=load.loaded_at, raw_lines=load.raw_lines)
            files.update({Path(f.path).name: scenario.name for f in summary.files})
            landed += summary.rows
        assert landed == scenario.rows_landed, f"{scenario.name}: {landed} rows landed, {scenario.rows_landed} sent"
    return files
