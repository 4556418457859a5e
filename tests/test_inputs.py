"""Inputs as the contract states them: seeds read by header name, a raw table with only the
contract's six columns, and a streaming loader (one loaded_at per row) (issue #15)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import D

from billing_cli.build import DbtProject
from billing_cli.db import connect
from billing_cli.errors import BillingError
from billing_cli.ingest import ingest
from billing_cli.names import CREATE_RAW

CATALOG = {
    "customers": [{"customer_id": "c1", "name": "One"}],
    "products": [
        {"product_id": "p1", "name": "Calls", "type": "USAGE", "billable_metric": "calls"},
        {"product_id": "credits", "name": "Credits", "type": "FIXED"},
    ],
    "rate_cards": [{"rate_card_id": "rc", "name": "List"}],
    "rate_card_rates": [
        {"rate_card_id": "rc", "product_id": "p1", "starting_at": "2025-01-01", "rate_type": "FLAT", "price": "0.5"}
    ],
    "contracts": [
        {
            "contract_id": "k1",
            "customer_id": "c1",
            "rate_card_id": "rc",
            "name": "K",
            "starting_at": "2025-01-01T00:00:00Z",
        }
    ],
}
METRICS = "billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n"
# a prepaid commit of $100 of usage, bought for $80 on Jan 25
COMMITS = [
    {
        "commit_id": "pc",
        "contract_id": "k1",
        "type": "PREPAID",
        "product_id": "credits",
        "name": "Prepaid",
        "amount": "100",
        "invoice_amount": "80",
        "access_starting_at": "2025-01-01",
        "access_ending_before": "2026-01-01",
        "invoice_at": "2025-01-25",
    }
]


def calls(n: int, day: str = "2025-01-15") -> list[dict]:
    return [
        {
            "transaction_id": f"t{i}",
            "customer_id": "c1",
            "event_type": "call",
            "timestamp": f"{day}T00:00:00Z",
            "properties": {},
        }
        for i in range(n)
    ]


def totals(project) -> list[tuple]:
    return [(r["invoice_type"], r["period_starting_at"] or r["issued_at"], r["total"]) for r in project.invoices()]


def rewrite_csv(path: Path, rename: dict[str, str] = (), order: list[str] | None = None) -> None:
    """Rewrite a seed CSV: rename header columns and/or reorder columns (header and values together)."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    header = rows[0]
    order = order or header
    index = [header.index(c) for c in order]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([dict(rename).get(c, c) for c in order])
    for row in rows[1:]:
        writer.writerow([row[i] for i in index])
    path.write_text(out.getvalue())


# -- 1. seeds load by header name ---------------------------------------------------------------


@pytest.mark.parametrize("fresh", [True, False], ids=["fresh", "existing"])
def test_seed_columns_load_by_header_name_and_a_misspelled_or_extra_one_fails(make_project, fresh):
    p = make_project().seeds(**CATALOG, contract_commits=COMMITS).metrics(METRICS)
    path = p.dir / "seeds" / "contract_commits.csv"
    original = path.read_text()
    if not fresh:
        p.ingest(calls(220), loaded_at="2025-01-16T00:00:00Z")
        # before the purchase is invoiced: Jan usage 220 x $0.50 = $110.00, $100 drawn from the commit
        p.build(as_of="2025-01-20T00:00:00Z", data_tests=False)
        assert totals(p) == [("USAGE", datetime(2025, 1, 1), D("10.00"))]
    seed_table_columns = "select column_name from information_schema.columns where table_name = 'contract_commits'"
    loaded = p.query(seed_table_columns)
    rewrite_csv(path, rename={"amount": "ammount"})
    result = p.build(as_of="2025-01-20T00:00:00Z", expect_success=False)
    problems = "\n".join(result.problems)
    assert "seed=contract_commits.csv, problem=missing column(s) amount; unknown column(s) ammount" in problems, (
        problems
    )
    # nothing was rated: everything downstream of the seed is skipped
    assert result.counts.get("skipped", 0) > 0, result.describe()
    if fresh:
        assert (
            p.query(
                "select table_name from information_schema.tables where table_name in "
                "('stg_contract_commits', 'int_usage_line_items', 'fct_invoices')"
            )
            == []
        )
    # an extra column
    path.write_text(
        "\n".join(line + (",notes" if i == 0 else ",x") for i, line in enumerate(original.splitlines())) + "\n"
    )
    result = p.build(as_of="2025-01-20T00:00:00Z", expect_success=False)
    assert "seed=contract_commits.csv, problem=unknown column(s) notes" in "\n".join(result.problems), result.problems
    # the failed header checks left the seed's table as it was (none on a fresh database)
    assert p.query(seed_table_columns) == loaded

    path.write_text(original)
    if not fresh:
        # the same data with amount and invoice_amount swapped in the file (header and values together),
        # loaded into the existing table by header name, not by position
        header = original.splitlines()[0].split(",")
        a, b = header.index("amount"), header.index("invoice_amount")
        header[a], header[b] = header[b], header[a]
        rewrite_csv(path, order=header)
        assert path.read_text().splitlines()[0].split(",")[a] == "invoice_amount"
    # (a draft is recomputed, the purchase is invoiced now: $80, not $100)
    p.build(as_of="2025-01-26T00:00:00Z")
    assert [r["total"] for r in p.invoices() if r["invoice_type"] == "SCHEDULED"] == [D("80.00")]
    assert p.query("select amount, invoice_amount from main.stg_contract_commits") == [
        {"amount": D("100"), "invoice_amount": D("80")}
    ]
    if not fresh:
        assert sorted(totals(p)) == [
            ("SCHEDULED", datetime(2025, 1, 25), D("80.00")),
            ("USAGE", datetime(2025, 1, 1), D("10.00")),
        ]


# -- 2. a raw table with only the contract's six columns ------------------------------------------

SIX_COLUMNS = {
    # as the contract lists them
    "text": ("varchar", "timestamp"),
    # `timestamp` as a real timestamp ("string (RFC 3339) or timestamp")
    "typed": ("timestamp", "timestamp"),
    # and `loaded_at` with a time zone (what many loaders write)
    "loaded_at_tz": ("timestamp", "timestamptz"),
}


@pytest.mark.parametrize("kind", list(SIX_COLUMNS))
def test_a_raw_table_with_only_the_contracts_six_columns_builds(make_project, kind):
    timestamp_type, loaded_at_type = SIX_COLUMNS[kind]
    p = make_project().seeds(**CATALOG).metrics(METRICS)
    con = duckdb.connect(str(p.db_path))
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema raw")
    con.execute(f"""create table raw.usage_events (transaction_id varchar, customer_id varchar, event_type varchar,
                    timestamp {timestamp_type}, properties varchar, loaded_at {loaded_at_type})""")
    rows = [  # (transaction_id, customer_id, event_type, timestamp, properties, loaded_at)
        ("t1", "c1", "call", "2025-01-10 10:00:00", "{}", "2025-01-16 00:00:00"),
        ("t2", "c1", "call", "2025-01-31 23:59:59", "{}", "2025-02-01 00:00:00"),
        ("t1", "c1", "call", "2025-01-10 10:00:00", "{}", "2025-02-01 00:00:00"),  # a retry: duplicate
        ("t3", "c1", "call", "2025-02-01 00:00:00", "{}", "2025-02-01 00:00:00"),
        ("t4", "nobody", "call", "2025-01-12 00:00:00", "{}", "2025-02-01 00:00:00"),
        ("t5", "c1", "other", "2025-01-12 00:00:00", None, "2025-02-01 00:00:00"),
    ]
    con.executemany("insert into raw.usage_events values (?, ?, ?, ?, ?, ?)", rows)
    con.close()
    p.build(as_of="2025-02-05T00:00:00Z")
    # Jan: t1 and t2 at $0.50; Feb: t3
    assert totals(p) == [("USAGE", datetime(2025, 1, 1), D("1.00")), ("USAGE", datetime(2025, 2, 1), D("0.50"))]
    outcomes = p.query(
        "select transaction_id, loaded_at, outcome, reason, source_file, source_line "
        "from main.fct_event_outcomes order by transaction_id, loaded_at"
    )
    assert [(r["transaction_id"], r["loaded_at"], r["outcome"], r["reason"]) for r in outcomes] == [
        ("t1", datetime(2025, 1, 16), "metered", None),
        ("t1", datetime(2025, 2, 1), "duplicate", None),
        ("t2", datetime(2025, 2, 1), "metered", None),
        ("t3", datetime(2025, 2, 1), "metered", None),
        ("t4", datetime(2025, 2, 1), "rejected", "unknown_customer"),
        ("t5", datetime(2025, 2, 1), "unmetered", None),
    ]
    assert {(r["source_file"], r["source_line"]) for r in outcomes} == {(None, None)}
    assert [
        (r["loaded_at"], r["event_count"])
        for r in p.query(
            "select loaded_at, sum(event_count) as event_count from main.fct_event_load_summary "
            "group by loaded_at order by loaded_at"
        )
    ] == [(datetime(2025, 1, 16), 1), (datetime(2025, 2, 1), 5)]
    # a second load by the same loader, and the next build
    con = duckdb.connect(str(p.db_path))
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "insert into raw.usage_events values ('t6', 'c1', 'call', '2025-02-02 00:00:00', '{}', '2025-02-03 00:00:00')"
    )
    con.close()
    p.build(as_of="2025-02-05T00:00:00Z")
    assert totals(p) == [("USAGE", datetime(2025, 1, 1), D("1.00")), ("USAGE", datetime(2025, 2, 1), D("1.00"))]


def test_billing_ingest_refuses_a_raw_table_without_its_columns(make_project, tmp_path):
    p = make_project()
    con = duckdb.connect(str(p.db_path))
    con.execute("create schema raw")
    con.execute(
        "create table raw.usage_events (transaction_id varchar, customer_id varchar, event_type varchar, "
        "timestamp varchar, properties varchar, loaded_at timestamp)"
    )
    con.close()
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(calls(1)[0]) + "\n")
    with pytest.raises(BillingError) as error:
        ingest(p.db_path, [str(path)])
    message = str(error.value)
    assert "raw.usage_events has no column(s) source_file, source_line, ingest_error" in message, message
    assert "alter table raw.usage_events add column source_file varchar" in message, message
    assert p.query("select count(*) as n from raw.usage_events") == [{"n": 0}]
    # with the columns added as the message says, it lands
    con = duckdb.connect(str(p.db_path))
    for statement in re.findall(r"alter table [^;]+;", message):
        con.execute(statement)
    con.close()
    assert ingest(p.db_path, [str(path)]).rows == 1


# -- 3. one loaded_at per event (a streaming loader) ----------------------------------------------

NESTED_LOOP_OPERATORS = {"NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "PIECEWISE_MERGE_JOIN"}
# tables with a row per event, per metric match or per load (raw rows, dedup, attribution, matches,
# outcomes, load summary, daily usage); a view (stg_usage_events) shows as the tables it reads
EVENT_TABLE = re.compile(r"(^raw\.|event|usage_daily|metric_daily)")
# node name -> why a nested-loop join over event tables in its plan is acceptable (none so far)
NESTED_LOOP_ALLOWED: dict[str, str] = {}
STREAM_METRICS = """billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
  - {name: seconds, event_type: call, aggregation: sum, property: seconds, group_keys: [region]}
  - {name: callers, event_type: call, aggregation: unique, property: user}
  - {name: last_plan, event_type: plan, aggregation: latest, property: plan}
"""


def event_path_nodes(project_dir: Path) -> dict[str, dict]:
    """Every model and data test downstream of raw.usage_events, by unique id, from the manifest."""
    manifest = json.loads((project_dir / "target" / "manifest.json").read_text())
    children, seen = manifest["child_map"], {}
    queue = list(children["source.billing.raw.usage_events"])
    while queue:
        node_id = queue.pop()
        if node_id in seen or node_id not in manifest["nodes"]:
            continue
        seen[node_id] = manifest["nodes"][node_id]
        queue += children.get(node_id, [])
    return {k: v for k, v in seen.items() if v["resource_type"] in ("model", "test")}


def nested_loops_over_events(plan) -> set[str]:
    """'OPERATOR over table, ...' for each nested-loop-like join of a DuckDB JSON plan that reads an
    event table below it."""
    found: set[str] = set()

    def tables(op) -> set[str]:
        own = {op.get("extra_info", {}).get("Table", "")} - {""}
        return own.union(*(tables(child) for child in op.get("children", [])))

    def single_row(op) -> bool:
        """A scalar subquery's side (an aggregate without GROUP BY, under projections or filters):
        one row, so a nested loop against it is a linear scan (D44 reads its plan values this way)."""
        while op.get("name") in ("PROJECTION", "FILTER") and len(op.get("children", [])) == 1:
            op = op["children"][0]
        materialized_scalar = (
            op.get("name") in ("CTE_SCAN", "COLUMN_DATA_SCAN")
            and op.get("extra_info", {}).get("Estimated Cardinality") == "1"
        )
        return op.get("name") == "UNGROUPED_AGGREGATE" or materialized_scalar

    def walk(op) -> None:
        if op.get("name") in NESTED_LOOP_OPERATORS and not any(single_row(c) for c in op.get("children", [])):
            read = sorted(t.split(".", 1)[-1] for t in tables(op))
            if any(EVENT_TABLE.search(t) for t in read):
                found.add(f"{op['name']} over {', '.join(read)}")
        for child in op.get("children", []):
            walk(child)

    for root in plan if isinstance(plan, list) else [plan]:
        walk(root)
    return found


def test_a_streaming_loader_is_planned_without_nested_loop_joins(make_project, monkeypatch):
    """With one loaded_at per event, anything keyed or grouped per load is as big as the events:
    every model and data test over the event tables must be planned with hash joins (or none)."""
    monkeypatch.setattr(DbtProject, "extra_flags", ("--write-json",))  # each build's target/manifest.json is read below
    n = 20_000
    p = make_project().seeds(**CATALOG).metrics(STREAM_METRICS)
    con = duckdb.connect(str(p.db_path))
    con.execute("set TimeZone = 'UTC'")
    con.execute(CREATE_RAW)
    con.execute(f"""
        insert into raw.usage_events
        select
            case when i % 97 = 0 then 't' || (i - 1) else 't' || i end,   -- retries: duplicates
            case when i % 101 = 0 then 'nobody' else 'c1' end,
            case when i % 13 = 0 then 'plan' else 'call' end,
            strftime(timestamp '2025-01-01' + to_seconds(i * 150), '%Y-%m-%dT%H:%M:%SZ'),
            '{{"seconds": ' || (i % 7) || ', "region": "r' || (i % 3) || '", "user": "u' || (i % 50)
                || '", "plan": "p' || (i % 4) || '"}}',
            timestamp '2025-01-01 00:00:01' + to_seconds(i * 150),           -- one load per event
            null, null, null
        from range({n}) as r(i)
        union all
        select 'late', 'c1', 'call', '2025-01-05T00:00:00Z', '{{}}', null, null, null, null""")
    con.close()
    p.build(as_of="2025-02-05T00:00:00Z", column_rules=True)  # their plans are checked too
    assert p.query("select count(distinct loaded_at) as loads from main.fct_event_load_summary") == [{"loads": n}]
    offenders = explain_event_path(p)
    # the next streaming load and an incremental build (its batch queries are planned too)
    con = connect(p.db_path)
    con.execute(CREATE_RAW)
    con.execute(
        "insert into raw.usage_events select 'n' || i, 'c1', 'call', '2025-02-04T00:00:00Z', '{}', "
        "timestamp '2025-02-04 12:00:00' + to_seconds(i), null, null, null from range(500) as r(i)"
    )
    con.close()
    p.build(as_of="2025-02-05T00:00:00Z", column_rules=True)
    offenders.update(explain_event_path(p))
    assert not offenders, f"nested-loop joins over event data (quadratic with a streaming loader): {offenders}"
    # the two reconciliation tests still see a lost outcome and a miscounted load: an outcome lost
    # from an old load (before the last build's batch) by the total alone, the rest per load too
    p.query("delete from main.fct_event_outcomes where transaction_id = 't5'")
    result = p.build(select="assert_every_raw_event_has_one_outcome", expect_success=False)
    assert result.counts.get("fail") == 1, result.describe()
    assert "in total" in "\n".join(result.problems), result.problems
    p.query("delete from main.fct_event_outcomes where transaction_id = 'late'")
    p.query(
        "update main.fct_event_load_summary set event_count = event_count + 1 "
        "where loaded_at = (select max(loaded_at) from main.fct_event_load_summary)"
    )
    for test in ("assert_every_raw_event_has_one_outcome", "assert_load_summary_adds_up"):
        result = p.build(select=test, expect_success=False)
        assert result.counts.get("fail") == 1, result.describe()


def explain_event_path(p) -> dict[str, list[str]]:
    """node name -> the nested-loop joins over event tables in its plan, for every model and data
    test downstream of raw.usage_events, as last compiled (EXPLAIN against the built database)."""
    nodes = event_path_nodes(p.dir)
    names = {node["name"] for node in nodes.values()}
    assert {
        "stg_usage_events",
        "int_events_deduplicated",
        "fct_event_outcomes",
        "fct_event_load_summary",
        "assert_every_raw_event_has_one_outcome",
        "assert_event_batch_is_consistent",
    } <= names, names
    offenders = {}
    con = connect(p.db_path, read_only=True)
    try:
        for node in nodes.values():
            sql = (p.dir / node["compiled_path"]).read_text()
            # an invoice table's incremental query reads the invoices its pre-hook listed, a temporary
            # table of the node's own (macros/invoice_marts.sql, written_invoices): an empty one here
            for name in set(re.findall(r'temp\.main\."([^"]+__billing_written)"', sql)):
                con.execute(f'create temporary table if not exists "{name}" (invoice_id varchar)')
            plan = json.loads(con.execute("explain (format json) " + sql).fetchall()[0][1])
            found = sorted(nested_loops_over_events(plan))
            if found and node["name"] not in NESTED_LOOP_ALLOWED:
                offenders[node["name"]] = found
    finally:
        con.close()
    return offenders
