"""Benchmark: N usage events through ingest, the first build, a nightly build and a micro-batch (issue 19).

One command, one run, every figure of issue 19 from the same generated files:

  python benchmarks/bench_events.py                      (10M events, both load patterns, ~10 minutes)
  python benchmarks/bench_events.py --events 200000      (a quick check of the script, ~3 minutes)
  python benchmarks/bench_events.py --report PATH        (reprint the table and targets of a results.json)

It generates realistic events once with DuckDB (Parquet): 10,000 customers, each with a monthly
contract over the last 12 months and a credit; four billable metrics (a count, a sum with a group
key and tiered prices, a max, a unique count); about 1% duplicate transaction ids (with other
payloads), 0.1% malformed rows, 0.1% unknown customers, 5% unmetered events. A 1M-row JSONL sample
is ingested once (throughput). Then, for each load pattern, on its own fresh database and project:

  hourly     the history lands as hourly loads: loaded_at is the event's hour + 1 h (never after the
             real load; rows with an unparseable timestamp keep the load's); later batches are one load
  per-event  one loaded_at per event (a streaming loader): a few minutes after the event for the
             history, one microsecond apart within each later batch
  single     (only with --patterns single) the whole history as one load

each step in its own process (wall time including Python and dbt start-up; peak RSS of that process):

  1. `billing ingest` of the Parquet history (events/s);
  2. two anchors on the landed rows: the bare aggregate (group by customer, event type and month
     with JSON extraction) and the hand-written dedup + aggregate a user would write instead of this
     project (the same aggregate over `qualify row_number() over (partition by transaction_id order
     by loaded_at) = 1`), each run before and again after the first build (their figure is the mean
     of the two, as the machine's load drifts); a bare copy of the landed rows (the floor of storing
     them once more);
  3. the first `billing build` (every past month finalized and stored, the current one open);
  4. a nightly build after 1% new events (mostly yesterday, 5% late for last month, some duplicates);
  5. a micro-batch: 10,000 new events for today (new ids, 5% late for last month), then `billing
     build`, timed from process start to exit and to the moment readers could see it (the readers'
     copy, which the build writes whole and then moves over the old one: the warehouse is locked by
     the build until it exits); the script then checks that all 10,000 have an outcome in
     fct_event_outcomes, that fct_customer_spend and the DRAFT invoices went up, and that the readers'
     copy shows the same spend and DRAFT totals, and fails if not.

Every step prints its ratios to both anchors ("x bare", "x hand-written"). At the end it prints a
markdown table (steps x patterns), the issue's targets met or not, and writes every figure to
<work>/results.json. Work files go to --work (default /tmp/billing-bench-events; about 3 GB per
pattern at 10M).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import duckdb  # noqa: E402
from conftest import SEED_COLUMNS, seed_csv  # noqa: E402

from billing_cli import metrics as metrics_mod  # noqa: E402
from billing_cli.publish import default_target  # noqa: E402

CUSTOMERS = 10_000
MICRO_BATCH = 10_000
PATTERNS = ("hourly", "per-event", "single")
METRICS = """billable_metrics:
  - {name: api_calls, event_type: api_call, aggregation: count}
  - {name: tokens, event_type: completion, aggregation: sum, property: tokens, group_keys: [model]}
  - {name: storage_gb, event_type: storage_snapshot, aggregation: max, property: gb}
  - {name: active_users, event_type_in: [api_call, completion], aggregation: unique, property: user_id}
"""
AGGREGATE = """
    select customer_id, event_type, date_trunc('month', try_cast(timestamp as timestamp)) as month,
           count(*) as events,
           sum(try_cast(case when json_valid(properties) then json_extract_string(properties, '$.tokens') end
                        as decimal(38, 10))) as tokens
    from {source}
    group by all
"""
BARE_AGGREGATE = AGGREGATE.format(source="raw.usage_events")
HAND_WRITTEN = AGGREGATE.format(
    source="(select * from raw.usage_events"
    " qualify row_number() over (partition by transaction_id order by loaded_at) = 1)"
)


def make_project(work: Path, first_month: date) -> Path:
    project = work / "project"
    project.mkdir(parents=True)
    shutil.copy(REPO / "dbt_project.yml", project)
    for folder in ("profiles", "macros"):
        shutil.copytree(REPO / folder, project / folder)
    shutil.copytree(REPO / "models", project / "models", ignore=shutil.ignore_patterns("metrics"))
    shutil.copytree(REPO / "tests" / "dbt", project / "tests" / "dbt")
    (project / "billable_metrics.yml").write_text(METRICS)
    metrics_mod.write_compiled(
        project, metrics_mod.compile_metrics(metrics_mod.load_metrics(project / "billable_metrics.yml"))
    )
    seeds = project / "seeds"
    seeds.mkdir()
    tables = {name: [] for name in SEED_COLUMNS}
    tables["customers"] = [
        {"customer_id": f"c{i:05d}", "name": f"Customer {i}", "ingest_aliases": [f"alias-{i:05d}"]}
        for i in range(CUSTOMERS)
    ]
    tables["products"] = [
        {"product_id": "api", "name": "API calls", "type": "USAGE", "billable_metric": "api_calls"},
        {
            "product_id": "tokens",
            "name": "Tokens",
            "type": "USAGE",
            "billable_metric": "tokens",
            "presentation_group_key": ["model"],
        },
        {"product_id": "storage", "name": "Storage", "type": "USAGE", "billable_metric": "storage_gb"},
        {"product_id": "users", "name": "Active users", "type": "USAGE", "billable_metric": "active_users"},
    ]
    tables["rate_cards"] = [{"rate_card_id": "rc", "name": "List"}]
    start = first_month.isoformat()
    tables["rate_card_rates"] = [
        {"rate_card_id": "rc", "product_id": "api", "starting_at": start, "rate_type": "FLAT", "price": "0.001"},
        {
            "rate_card_id": "rc",
            "product_id": "tokens",
            "starting_at": start,
            "rate_type": "TIERED",
            "tiers": [{"size": "100000", "price": "0.00002"}, {"price": "0.00001"}],
        },
        {"rate_card_id": "rc", "product_id": "storage", "starting_at": start, "rate_type": "FLAT", "price": "0.1"},
        {"rate_card_id": "rc", "product_id": "users", "starting_at": start, "rate_type": "FLAT", "price": "2"},
    ]
    tables["contracts"] = [
        {
            "contract_id": f"k{i:05d}",
            "customer_id": f"c{i:05d}",
            "rate_card_id": "rc",
            "name": f"Contract {i}",
            "starting_at": start,
        }
        for i in range(CUSTOMERS)
    ]
    tables["contract_credits"] = [
        {"credit_id": f"k{i:05d}-credit", "contract_id": f"k{i:05d}", "amount": "50", "access_starting_at": start}
        for i in range(CUSTOMERS)
    ]
    for name, rows in tables.items():
        (seeds / f"{name}.csv").write_text(seed_csv(name, rows))
    return project


def event_sql(
    n: int,
    offset: int,
    first_at: datetime,
    span_seconds: int,
    late_from: datetime | None,
    duplicate_of_below: int | None,
) -> str:
    """SELECT of n events (ids offset..offset+n-1) spread over [first_at, first_at + span); with
    late_from, 5% of them fall in the 30 days before late_from + 30 days instead. About 1% repeat an
    id below duplicate_of_below (with another payload); with None, every id is new."""
    late = (
        f"when (h // 20) % 20 = 7 then timestamp '{late_from:%Y-%m-%d %H:%M:%S}'"
        " + to_seconds(cast(h % 2592000 as bigint))"
        if late_from
        else ""
    )
    dup_of = (
        f"case when h % 100 = 3 and i >= 1000 then (i * 31) % greatest({duplicate_of_below}, 1) end"
        if duplicate_of_below is not None
        else "cast(null as bigint)"
    )
    return f"""
    with numbered as (
        select range as i, hash(range * 7919 + 17) as h from range({offset}, {offset + n})
    ),
    shaped as (
        select
            i, h,
            {dup_of} as dup_of,
            case
                when h % 1000 = 11 then null
                when h % 1000 = 12 then 'unknown-' || (h % 50)
                when h % 10 = 5 then 'alias-' || lpad(cast((h // 10) % {CUSTOMERS} as varchar), 5, '0')
                else 'c' || lpad(cast((h // 10) % {CUSTOMERS} as varchar), 5, '0')
            end as customer_id,
            case
                when h % 20 in (0, 1, 2, 3, 4, 5, 6, 8, 9, 10) then 'api_call'
                when h % 20 in (11, 12, 13, 14, 15, 16, 17) then 'completion'
                when h % 20 in (18) then 'storage_snapshot'
                else 'page_view'
            end as event_type,
            case {late} when true then timestamp '{first_at:%Y-%m-%d %H:%M:%S}'
                + to_seconds(cast(h % {span_seconds} as bigint)) end as event_at
        from numbered
    )
    select
        case when dup_of is not null then 'evt-' || dup_of else 'evt-' || i end as transaction_id,
        customer_id,
        event_type,
        case when h % 1000 = 13 then 'not a time' else strftime(event_at, '%Y-%m-%dT%H:%M:%SZ') end as timestamp,
        case
            when h % 1000 = 14 then '{{"tokens": "lots"'
            when event_type = 'completion' then
                '{{"tokens": ' || (h % 4000) || ', "model": "m' || (h % 3) || '", "user_id": "u' || (h % 500) || '"}}'
            when event_type = 'api_call' then '{{"user_id": "u' || (h % 500) || '", "endpoint": "/v1/x"}}'
            when event_type = 'storage_snapshot' then '{{"gb": ' || (h % 900) || '.5}}'
            else '{{"path": "/home"}}'
        end as properties
    from shaped
    """


def generate(work: Path, events: int, today: datetime) -> dict[str, Path]:
    """history.parquet (events over the last 12 months, up to yesterday), nightly.parquet (1%),
    micro.parquet (10,000 new ids for today), sample.jsonl (up to 1M rows)."""
    first_at = (today.replace(day=1) - timedelta(days=335)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = int((today - timedelta(days=1) - first_at).total_seconds())
    nightly = max(events // 100, 1)
    con = duckdb.connect()
    try:
        con.execute("set preserve_insertion_order = false")
        files = {
            "history": work / "history.parquet",
            "nightly": work / "nightly.parquet",
            "micro": work / "micro.parquet",
            "sample": work / "sample.jsonl",
        }
        con.execute(
            f"copy ({event_sql(events, 0, first_at, span, None, events)}) to '{files['history']}' "
            "(format parquet, row_group_size 1000000)"
        )
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        yesterday = (today - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        con.execute(
            f"copy ({event_sql(nightly, events, yesterday, 86400, last_month, events)}) "
            f"to '{files['nightly']}' (format parquet)"
        )
        midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
        today_span = max(int((today - midnight).total_seconds()), 1)
        con.execute(
            f"copy ({event_sql(MICRO_BATCH, events + nightly, midnight, today_span, last_month, None)}) "
            f"to '{files['micro']}' (format parquet)"
        )
        sample = min(events, 1_000_000)
        con.execute(f"copy ({event_sql(sample, 0, first_at, span, None, sample)}) to '{files['sample']}' (format json)")
        return files
    finally:
        con.close()


def run(args: list[str], env: dict, label: str) -> dict:
    """A command in its own process: wall time and peak RSS."""
    started_at, started = time.time(), time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed:\n{output[-4000:]}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "output": output, "started_at": started_at}


QUERY_CHILD = """
import duckdb, json, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
started = time.perf_counter()
con.execute("create temp table t as " + sys.argv[2])
rows = con.execute("select count(*) from t").fetchone()[0]
print(json.dumps({"query_seconds": time.perf_counter() - started, "rows": rows}))
"""


COPY_CHILD = """
import duckdb, json, os, sys, time
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("set memory_limit = '6GB'")
con.execute(f"attach '{sys.argv[2]}' as scratch (read_only false)")
started = time.perf_counter()
con.execute("create table scratch.events as select * from raw.usage_events")
con.execute("checkpoint scratch")
print(json.dumps({"query_seconds": time.perf_counter() - started}))
con.close()
os.remove(sys.argv[2])
"""


LOADED_AT_CHILD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("set TimeZone = 'UTC'")
newest = con.execute("select max(loaded_at) from raw.usage_events").fetchone()[0]
at = "cast(try_cast(timestamp as timestamptz) as timestamp)"
if sys.argv[2] == "hourly":  # hourly loads: the event's hour + 1 h, never after the real load
    con.execute(f\"\"\"update raw.usage_events set loaded_at = least(?, date_trunc('hour', {at}) + interval 1 hour)
        where {at} is not null\"\"\", [newest])
elif sys.argv[2] == "per-event":  # a few minutes after the event (never after the load), one per row
    con.execute(f\"\"\"update raw.usage_events set loaded_at = least(?,
        {at} + to_microseconds(cast(hash(transaction_id, source_line) % 600000000 as bigint)))
        where {at} is not null\"\"\", [newest])
else:  # per-event-batch: the last load, its rows one microsecond apart
    con.execute(\"\"\"update raw.usage_events set loaded_at = loaded_at + to_microseconds(source_line)
        where loaded_at = ?\"\"\", [newest])
print(con.execute("select count(distinct loaded_at), count(*) from raw.usage_events").fetchone())
con.close()
"""


def ratios(figures: dict, anchors: dict) -> dict:
    """figures' wall time against each anchor process's wall time (absent anchors are left out)."""
    out = {}
    for key, anchor in (("x_bare", "bare"), ("x_hand_written", "hand_written")):
        if anchor in anchors:
            out[key] = figures["seconds"] / anchors[anchor]["seconds"]
    return out


def line(label: str, figures: dict, extra: str = "") -> None:
    shown = "".join(
        f"  {figures[key]:5.1f}x {name}"
        for key, name in (("x_bare", "bare"), ("x_hand_written", "hand-written"))
        if key in figures
    )
    print(f"  {label:50s} {figures['seconds']:8.1f} s  peak RSS {figures['peak_mb']:7.0f} MB{shown}{extra}", flush=True)


NODE_LINE = re.compile(r"\d+ of \d+ (.*?) \.{2,} \[[\w -]+ in ([\d.]+)s\]")
FINISHED = re.compile(r"Finished running .* \(([\d.]+)s\)")


def slowest(project: Path, keep: Path, top: int = 6) -> dict:
    """Keep the build's part of logs/dbt.log (each node's result line with its time; `billing` writes
    no run_results.json, D79); print and return its node count, dbt's own elapsed time, the summed
    node time and the slowest nodes."""
    log = (project / "logs" / "dbt.log").read_text()
    build_log = log[log.rindex("Running with dbt=") :]
    keep.write_text(build_log)
    nodes = [(match[1].split()[-1].removeprefix("main."), float(match[2])) for match in NODE_LINE.finditer(build_log)]
    [elapsed] = FINISHED.findall(build_log)[-1:] or ["0"]
    summary = {
        "nodes": len(nodes),
        "dbt_elapsed_seconds": round(float(elapsed), 1),
        "node_seconds": round(sum(seconds for _, seconds in nodes), 1),
        "slowest": [[name, round(seconds, 1)] for name, seconds in sorted(nodes, key=lambda n: -n[1])[:top]],
    }
    print(
        f"      {summary['nodes']} nodes, dbt elapsed {summary['dbt_elapsed_seconds']:.1f} s "
        f"(node times add to {summary['node_seconds']:.1f} s); slowest: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in summary["slowest"]),
        flush=True,
    )
    return summary


def snapshot(db: Path, micro: Path) -> dict:
    """What the micro-batch must change: draft invoice totals, live spend, the batch's outcomes."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        drafts, draft_total = con.execute(
            "select count(*), coalesce(sum(total), 0) from main.fct_invoices where status = 'DRAFT'"
        ).fetchone()
        spend = con.execute("select coalesce(sum(spend_to_date), 0) from main.fct_customer_spend").fetchone()[0]
        rows, ids, metered = con.execute(
            "select count(*), count(distinct transaction_id), count(*) filter (where outcome = 'metered') "
            "from main.fct_event_outcomes "
            f"where transaction_id in (select transaction_id from read_parquet('{micro}'))"
        ).fetchone()
    finally:
        con.close()
    return {
        "draft_invoices": drafts,
        "draft_total": float(draft_total),
        "spend_to_date": float(spend),
        "batch_outcomes": rows,
        "batch_ids_with_outcome": ids,
        "batch_metered": metered,
    }


def visible_seconds(db: Path, started_at: float) -> float | None:
    """Seconds from a build's start until readers could see its result: the readers' copy is written
    whole beside the database and moved over the old one (os.replace keeps the written file's
    modification time), the warehouse itself being locked by the build until it exits. None when the
    build did not replace the copy."""
    copy = default_target(db)
    if not copy.exists() or copy.stat().st_mtime < started_at:
        return None
    return copy.stat().st_mtime - started_at


def verify_readers_copy(db: Path, after: dict) -> list[str]:
    """Why the readers' copy does not show the micro-batch (empty when it does): its live spend and
    DRAFT totals must be the warehouse's after the build."""
    con = duckdb.connect(str(default_target(db)), read_only=True)
    try:
        draft_total = con.execute(
            "select coalesce(sum(total), 0) from main.fct_invoices where status = 'DRAFT'"
        ).fetchone()[0]
        spend = con.execute("select coalesce(sum(spend_to_date), 0) from main.fct_customer_spend").fetchone()[0]
    finally:
        con.close()
    problems = []
    if float(draft_total) != after["draft_total"]:
        problems.append(f"the readers' copy has DRAFT totals {draft_total}, the warehouse {after['draft_total']}")
    if float(spend) != after["spend_to_date"]:
        problems.append(f"the readers' copy has spend to date {spend}, the warehouse {after['spend_to_date']}")
    return problems


def verify_micro_batch(before: dict, after: dict) -> list[str]:
    """Why the micro-batch is not visible (empty when it is)."""
    problems = []
    if before["batch_outcomes"]:
        problems.append(f"{before['batch_outcomes']:,} outcomes of the batch before it was loaded")
    if after["batch_outcomes"] != MICRO_BATCH or after["batch_ids_with_outcome"] != MICRO_BATCH:
        problems.append(
            f"{after['batch_ids_with_outcome']:,} of {MICRO_BATCH:,} batch events have an outcome "
            f"({after['batch_outcomes']:,} outcome rows)"
        )
    if not after["batch_metered"]:
        problems.append("no event of the batch is metered")
    if not after["draft_total"] > before["draft_total"]:
        problems.append(f"draft invoice totals did not go up ({before['draft_total']} -> {after['draft_total']})")
    if not after["spend_to_date"] > before["spend_to_date"]:
        problems.append(f"fct_customer_spend did not go up ({before['spend_to_date']} -> {after['spend_to_date']})")
    return problems


def run_pattern(pattern: str, work: Path, files: dict[str, Path], first_month: date, events: int) -> dict:
    """Every step of one load pattern on its own fresh project and database."""
    base = work / pattern
    project = make_project(base, first_month)
    db = base / "bench.duckdb"
    env = {**os.environ, "BILLING_DB": str(db), "DBT_PROFILES_DIR": str(project / "profiles")}
    billing = [sys.executable, "-m", "billing_cli.cli", "--project-dir", str(project)]
    build = [*billing, "build", "--quiet"]
    steps: dict[str, dict] = {}
    slow: dict[str, list] = {}
    landing: dict[str, float] = {}

    def step(key: str, label: str, figures: dict, extra: str = "", **more) -> dict:
        figures = {k: v for k, v in figures.items() if k not in ("output", "started_at")}
        if "events_per_second" not in more:  # an ingest is measured by its throughput
            figures.update(ratios(figures, steps))
        figures.update(label=label, **more)
        steps[key] = figures
        line(label, figures, extra)
        return figures

    def land(kind: str) -> None:
        if pattern == "hourly" and kind == "history" or pattern == "per-event":
            mode = pattern if kind == "history" else "per-event-batch"
            landing[kind] = run([sys.executable, "-c", LOADED_AT_CHILD, str(db), mode], env, "loaded_at")["seconds"]

    def ingest(key: str, label: str, path: Path, rows: int) -> None:
        figures = run([*billing, "ingest", "--quiet", str(path)], env, label)
        rate = rows / figures["seconds"]
        step(key, label, figures, f"  {rate / 1e6:5.2f} M events/s", events_per_second=rate, rows=rows)

    def query(label: str, child: list[str]) -> dict:
        figures = run([sys.executable, "-c", *child], env, label)
        figures["query_seconds"] = json.loads(figures["output"].strip().splitlines()[-1])["query_seconds"]
        return figures

    anchor_runs: dict[str, list[dict]] = {"bare": [], "hand_written": []}

    def anchors(when: str) -> None:
        """Both anchors once more; their figures are the mean of the runs so far (peak: the highest)."""
        for key in anchor_runs:
            steps.pop(key, None)
        for key, label, sql in (
            ("bare", "anchor: bare aggregate", BARE_AGGREGATE),
            ("hand_written", "anchor: hand-written dedup + aggregate", HAND_WRITTEN),
        ):
            figures = query(label, [QUERY_CHILD, str(db), sql])
            anchor_runs[key].append({k: figures[k] for k in ("seconds", "peak_mb", "query_seconds")})
            runs = anchor_runs[key]
            step(
                key,
                label + (f" (mean of {len(runs)})" if len(runs) > 1 else ""),
                {
                    "seconds": sum(r["seconds"] for r in runs) / len(runs),
                    "peak_mb": max(r["peak_mb"] for r in runs),
                },
                f"  (this run {figures['seconds']:.1f} s {when}, query alone {figures['query_seconds']:.1f} s)",
                query_seconds=sum(r["query_seconds"] for r in runs) / len(runs),
                runs=runs,
            )

    load_before = os.getloadavg()[0]
    print(f"\n## pattern {pattern} (load average {load_before:.1f} on {os.cpu_count()} cores)", flush=True)
    ingest("ingest", f"billing ingest, Parquet ({events:,} rows)", files["history"], events)
    land("history")
    anchors("before the first build")
    copy = query("bare copy of the landed rows", [COPY_CHILD, str(db), str(base / "copy.duckdb")])
    step("copy", "bare copy of the landed rows", copy, f"  (query alone {copy['query_seconds']:.1f} s)")

    first = run(build, env, "first build")
    print(f"  first billing build ran {first['seconds']:.1f} s; the anchors again, after it:", flush=True)
    anchors("after the first build")
    step("first", "first billing build (all history)", first)
    slow["first"] = slowest(project, base / "first_build_dbt.log")

    ingest("nightly_ingest", f"nightly ingest ({events // 100:,} rows)", files["nightly"], events // 100)
    land("nightly")
    step("nightly", "nightly billing build (1% new events)", run(build, env, "nightly build"))
    slow["nightly"] = slowest(project, base / "nightly_build_dbt.log")

    before = snapshot(db, files["micro"])
    ingest("micro_ingest", f"micro-batch ingest ({MICRO_BATCH:,} rows)", files["micro"], MICRO_BATCH)
    land("micro")
    micro = run(build, env, "micro-batch build")
    visible = visible_seconds(db, micro["started_at"])
    step(
        "micro",
        f"micro-batch billing build ({MICRO_BATCH:,} events)",
        micro,
        f"  visible to readers after {visible:.1f} s" if visible is not None else "  (readers' copy not replaced)",
        visible_seconds=visible,
    )
    slow["micro"] = slowest(project, base / "micro_build_dbt.log")
    after = snapshot(db, files["micro"])
    problems = verify_micro_batch(before, after) + verify_readers_copy(db, after)
    if problems:
        raise SystemExit(f"pattern {pattern}: the micro-batch is not visible after its build: " + "; ".join(problems))
    print(
        f"      visible: {after['batch_ids_with_outcome']:,} outcomes ({after['batch_metered']:,} metered); "
        f"draft totals {before['draft_total']:,.2f} -> {after['draft_total']:,.2f}; "
        f"spend to date {before['spend_to_date']:,.2f} -> {after['spend_to_date']:,.2f}",
        flush=True,
    )

    con = duckdb.connect(str(db), read_only=True)
    try:
        outcomes = dict(
            con.execute("select outcome, count(*) from main.fct_event_outcomes group by 1 order by 1").fetchall()
        )
        loads = con.execute("select count(distinct loaded_at) from raw.usage_events").fetchone()[0]
    finally:
        con.close()
    print("      outcomes: " + ", ".join(f"{o} {n:,}" for o, n in outcomes.items()) + f"; {loads:,} loads")
    return {
        "steps": steps,
        "slowest": slow,
        "micro_batch": {"before": before, "after": after},
        "outcomes": outcomes,
        "loads": loads,
        "landing_seconds": landing,
        "database_gb": db.stat().st_size / 1e9,
        "load_average": [load_before, os.getloadavg()[0]],
    }


ROWS = [
    ("ingest", "`billing ingest`, Parquet"),
    ("bare", "anchor: bare aggregate"),
    ("hand_written", "anchor: hand-written dedup + aggregate"),
    ("copy", "bare copy of the landed rows"),
    ("first", "first `billing build`"),
    ("nightly_ingest", "nightly ingest (1%)"),
    ("nightly", "nightly `billing build`"),
    ("micro_ingest", "micro-batch ingest (10,000)"),
    ("micro", "micro-batch `billing build`"),
]


def cell(figures: dict) -> str:
    parts = [f"{figures['seconds']:.1f} s", f"{figures['peak_mb'] / 1024:.1f} GB"]
    if "events_per_second" in figures:
        parts.append(f"{figures['events_per_second'] / 1e6:.2f} M/s")
    else:
        parts += [f"{figures[k]:.1f}x {n}" for k, n in (("x_bare", "bare"), ("x_hand_written", "hw")) if k in figures]
    if figures.get("visible_seconds") is not None:
        parts.append(f"visible after {figures['visible_seconds']:.1f} s")
    return ", ".join(parts)


def table(results: dict) -> str:
    """Markdown: one row per step, one column per pattern (seconds, peak GB, ratios or throughput)."""
    patterns = list(results["patterns"])
    out = ["| step | " + " | ".join(patterns) + " |", "|---" * (len(patterns) + 1) + "|"]
    for key, label in ROWS:
        cells = [
            cell(results["patterns"][p]["steps"][key]) if key in results["patterns"][p]["steps"] else ""
            for p in patterns
        ]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _visible(figures: dict) -> float:
    """When a micro-batch became visible to readers (its process's exit in results without the figure)."""
    visible = figures.get("visible_seconds")
    return figures["seconds"] if visible is None else visible


def targets(results: dict) -> list[tuple[str, bool | None, str]]:
    """Issue 19's targets: (target, met (None: not measured), the figures)."""
    patterns = results["patterns"]
    size = f"{results['events'] / 1e6:g}M"
    out = []

    def each(name: str, key: str, ok, show) -> None:
        got = {p: r["steps"][key] for p, r in patterns.items() if key in r["steps"]}
        out.append(
            (
                name,
                all(ok(f) for f in got.values()) if got else None,
                "; ".join(f"{p} {show(f)}" for p, f in got.items()),
            )
        )

    each(
        f"first build <= 3x hand-written and peak <= 6 GB ({size})",
        "first",
        lambda f: f["x_hand_written"] <= 3 and f["peak_mb"] <= 6 * 1024,
        lambda f: f"{f['x_hand_written']:.1f}x, {f['peak_mb'] / 1024:.1f} GB",
    )
    each(
        f"nightly <= 15 s (the issue's target is at 100M history; measured at {size})",
        "nightly",
        lambda f: f["seconds"] <= 15,
        lambda f: f"{f['seconds']:.1f} s",
    )
    each(
        f"micro-batch visible <= 8 s after `billing build` starts ({size})",
        "micro",
        lambda f: _visible(f) <= 8,
        lambda f: (
            f"{_visible(f):.1f} s"
            + (f" (process exit {f['seconds']:.1f} s)" if f.get("visible_seconds") is not None else " (process exit)")
        ),
    )
    if "hourly" in patterns and "per-event" in patterns:
        hourly, per_event = patterns["hourly"]["steps"], patterns["per-event"]["steps"]
        keys = ("first", "nightly", "micro")
        seconds = {key: per_event[key]["seconds"] / hourly[key]["seconds"] for key in keys}
        anchored = {key: per_event[key]["x_hand_written"] / hourly[key]["x_hand_written"] for key in keys}
        out.append(
            (
                "per-event as fast as hourly (per-event / hourly seconds <= 1.1, for timing noise)",
                all(r <= 1.1 for r in seconds.values()),
                ", ".join(f"{key} {seconds[key]:.2f}x" for key in keys)
                + " (of the x hand-written ratios: "
                + ", ".join(f"{key} {anchored[key]:.2f}x" for key in keys)
                + ")",
            )
        )
    else:
        out.append(("per-event as fast as hourly", None, "needs both patterns"))
    each(
        "Parquet ingest >= 2M events/s",
        "ingest",
        lambda f: f["events_per_second"] >= 2e6,
        lambda f: f"{f['events_per_second'] / 1e6:.2f} M/s",
    )
    return out


def target_lines(results: dict) -> list[str]:
    mark = {True: "met", False: "NOT met", None: "not measured"}
    return [f"- **{mark[met]}**: {name}: {shown}" for name, met, shown in targets(results)]


def report(results: dict) -> str:
    """The table, what its figures are, and the targets met or not."""
    loads = "; ".join(
        f"{p} {r['load_average'][0]:.1f} / {r['load_average'][1]:.1f}"
        for p, r in results["patterns"].items()
        if "load_average" in r
    )
    return "\n".join(
        [
            "",
            table(results),
            "",
            f"JSONL sample: {results['jsonl']['events_per_second'] / 1e6:.2f} M events/s. Seconds are each process's "
            "wall time (start-up included), GB its peak RSS; x bare / x hw: against the anchors' processes in the same "
            f"pattern. Load average (1 min) at the start / end of each pattern: {loads or 'not recorded'}.",
            "",
            "Targets (issue 19):",
            *target_lines(results),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/billing-bench-events"))
    parser.add_argument(
        "--patterns",
        nargs="+",
        choices=PATTERNS,
        default=["hourly", "per-event"],
        help="load patterns, each on its own fresh database (default: hourly per-event)",
    )
    parser.add_argument("--report", type=Path, help="only print the table and targets of this results.json")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(args.report.read_text())))
        return

    work = args.work.resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    today = datetime.now(UTC).replace(tzinfo=None)
    first_month = (today.replace(day=1) - timedelta(days=335)).replace(day=1).date()
    started = time.perf_counter()
    files = generate(work, args.events, today)
    print(
        f"generated {args.events:,} events + {args.events // 100:,} nightly + {MICRO_BATCH:,} micro-batch "
        f"({time.perf_counter() - started:.0f} s); {CUSTOMERS:,} customers, 4 metrics, ~1% duplicate ids, "
        "0.4% malformed or unknown",
        flush=True,
    )
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    results: dict = {
        "events": args.events,
        "started_at": today.isoformat(timespec="seconds") + "Z",
        "commit": commit.stdout.strip(),
        "cores": os.cpu_count(),
        "patterns": {},
    }

    sample_project = make_project(work / "jsonl", first_month)
    sample_rows = min(args.events, 1_000_000)
    jsonl = run(
        [sys.executable, "-m", "billing_cli.cli", "--project-dir", str(sample_project), "ingest", "--quiet"]
        + [str(files["sample"])],
        {**os.environ, "BILLING_DB": str(work / "jsonl" / "sample.duckdb")},
        "ingest jsonl",
    )
    results["jsonl"] = {
        "rows": sample_rows,
        "seconds": jsonl["seconds"],
        "peak_mb": jsonl["peak_mb"],
        "events_per_second": sample_rows / jsonl["seconds"],
    }
    line(
        f"billing ingest, JSONL ({sample_rows:,} rows)",
        jsonl,
        f"  {sample_rows / jsonl['seconds'] / 1e6:5.2f} M events/s",
    )
    shutil.rmtree(work / "jsonl")

    for pattern in args.patterns:
        results["patterns"][pattern] = run_pattern(pattern, work, files, first_month, args.events)
        (work / "results.json").write_text(json.dumps(results, indent=2, default=str))

    print(report(results))
    print(f"\nAll figures: {work / 'results.json'}")


if __name__ == "__main__":
    main()
