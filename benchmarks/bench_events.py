"""Benchmark: N usage events through ingest, the first build and a nightly build (issue 6).

One command, one run, the same data for every figure:

  python benchmarks/bench_events.py --events 10000000        (about 3 minutes on 2 cores)
  python benchmarks/bench_events.py --events 100000000       (the issue's target size)

It generates realistic events with DuckDB (Parquet): 10,000 customers, each with a monthly
contract over the last 12 months; four billable metrics (a count, a sum with a group key and
tiered prices, a max, a unique count); about 1% duplicate transaction ids (with other payloads),
0.1% malformed rows, 0.1% unknown customers, 5% unmetered events. Then, each in its own process
(wall time including Python and dbt start-up; peak RSS of that process):

  1. the bare DuckDB aggregate on the landed rows: group by customer, event type and month with
     JSON property extraction (the floor any billing must pay to read the events once), and a bare
     copy of the landed rows into a new table (the floor of any design that stores the events
     once more, e.g. deduplicated);
  2. `billing ingest` of the Parquet files (throughput), and of a JSONL sample (throughput);
  3. the first `billing build` (every past month is finalized and stored, the current one is open);
  4. a nightly build after 1% new events (mostly today, 5% late events for last month, some
     duplicates of old ids).

With --streaming every event gets its own loaded_at, as a streaming loader (Kafka, Snowpipe) writes
them: a few minutes after the event for the history, one microsecond apart for the nightly load.

It prints wall time, peak memory and the ratios to the bare aggregate. Work files go to --work
(default /tmp/billing-bench-events); the 100M run needs about 25 GB of disk there.
"""

from __future__ import annotations

import argparse
import json
import os
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

CUSTOMERS = 10_000
METRICS = """billable_metrics:
  - {name: api_calls, event_type: api_call, aggregation: count}
  - {name: tokens, event_type: completion, aggregation: sum, property: tokens, group_keys: [model]}
  - {name: storage_gb, event_type: storage_snapshot, aggregation: max, property: gb}
  - {name: active_users, event_type_in: [api_call, completion], aggregation: unique, property: user_id}
"""
BARE_AGGREGATE = """
    select customer_id, event_type, date_trunc('month', try_cast(timestamp as timestamp)) as month,
           count(*) as events,
           sum(try_cast(case when json_valid(properties) then json_extract_string(properties, '$.tokens') end
                        as decimal(38, 10))) as tokens
    from raw.usage_events
    group by all
"""


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
    n: int, offset: int, first_at: datetime, span_seconds: int, late_from: datetime | None, duplicate_of_below: int
) -> str:
    """SELECT of n events (ids offset..offset+n-1) spread over [first_at, first_at + span); with
    late_from, 5% of them fall in the 30 days before late_from + 30 days instead."""
    late = (
        f"when (h // 20) % 20 = 7 then timestamp '{late_from:%Y-%m-%d %H:%M:%S}'"
        " + to_seconds(cast(h % 2592000 as bigint))"
        if late_from
        else ""
    )
    return f"""
    with numbered as (
        select range as i, hash(range * 7919 + 17) as h from range({offset}, {offset + n})
    ),
    shaped as (
        select
            i, h,
            case when h % 100 = 3 and i >= 1000 then (i * 31) % greatest({duplicate_of_below}, 1) end as dup_of,
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
    """history.parquet (events over the last 12 months, up to yesterday), nightly.parquet (1%)."""
    first_at = (today.replace(day=1) - timedelta(days=335)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = int((today - timedelta(days=1) - first_at).total_seconds())
    nightly = max(events // 100, 1)
    con = duckdb.connect()
    try:
        con.execute("set preserve_insertion_order = false")
        files = {
            "history": work / "history.parquet",
            "nightly": work / "nightly.parquet",
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
        sample = min(events, 1_000_000)
        con.execute(f"copy ({event_sql(sample, 0, first_at, span, None, sample)}) to '{files['sample']}' (format json)")
        return files
    finally:
        con.close()


def run(args: list[str], env: dict, label: str) -> dict:
    """A command in its own process: wall time and peak RSS."""
    started = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed:\n{output[-4000:]}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "output": output}


BARE_CHILD = """
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


STREAMING_CHILD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("set TimeZone = 'UTC'")
newest = "(select max(loaded_at) from raw.usage_events)"
if sys.argv[2] == "history":  # a few minutes after the event (never after the load), one per row
    con.execute(f\"\"\"update raw.usage_events set loaded_at = least({newest},
        cast(try_cast(timestamp as timestamptz) as timestamp)
            + to_microseconds(cast(hash(transaction_id, source_line) % 600000000 as bigint)))
        where try_cast(timestamp as timestamptz) is not null\"\"\")
else:  # the last load, its rows one microsecond apart
    con.execute(f\"\"\"update raw.usage_events set loaded_at = loaded_at + to_microseconds(source_line)
        where loaded_at = {newest}\"\"\")
print(con.execute("select count(distinct loaded_at), count(*) from raw.usage_events").fetchone())
con.close()
"""


def line(label: str, figures: dict, bare: float | None = None, extra: str = "") -> None:
    ratio = f"  {figures['seconds'] / bare:5.1f}x bare" if bare else ""
    print(f"{label:44s} {figures['seconds']:8.1f} s  peak RSS {figures['peak_mb']:7.0f} MB{ratio}{extra}", flush=True)


def slowest(project: Path, keep: Path, top: int = 6) -> None:
    """Keep dbt's run_results.json of the build and print its slowest nodes."""
    shutil.copy(project / "target" / "run_results.json", keep)
    results = json.loads(keep.read_text())["results"]
    results.sort(key=lambda r: -r["execution_time"])
    print(
        "    slowest: "
        + ", ".join(f"{r['unique_id'].split('.')[2]} {r['execution_time']:.1f} s" for r in results[:top]),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/billing-bench-events"))
    parser.add_argument("--streaming", action="store_true", help="one loaded_at per event (a streaming loader)")
    args = parser.parse_args()

    work = args.work.resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    today = datetime.now(UTC).replace(tzinfo=None)
    started = time.perf_counter()
    project = make_project(work, (today.replace(day=1) - timedelta(days=335)).replace(day=1).date())
    files = generate(work, args.events, today)
    print(
        f"generated {args.events:,} events + {args.events // 100:,} nightly ({time.perf_counter() - started:.0f} s); "
        f"{CUSTOMERS:,} customers, 4 metrics, ~1% duplicate ids, 0.4% malformed or unknown",
        flush=True,
    )

    db = work / "bench.duckdb"
    env = {**os.environ, "BILLING_DB": str(db), "DBT_PROFILES_DIR": str(project / "profiles")}
    billing = [sys.executable, "-m", "billing_cli.cli", "--project-dir", str(project)]

    ingest = run([*billing, "ingest", "--quiet", str(files["history"])], env, "ingest")
    line(
        f"billing ingest, Parquet ({args.events:,} rows)",
        ingest,
        extra=f"  {args.events / ingest['seconds'] / 1e6:5.2f} M events/s",
    )
    if args.streaming:
        run([sys.executable, "-c", STREAMING_CHILD, str(db), "history"], env, "per-event loaded_at")
    sample_db = work / "sample.duckdb"
    jsonl = run(
        [*billing, "ingest", "--quiet", str(files["sample"])], {**env, "BILLING_DB": str(sample_db)}, "ingest jsonl"
    )
    sample_rows = min(args.events, 1_000_000)
    line(
        f"billing ingest, JSONL ({sample_rows:,} rows)",
        jsonl,
        extra=f"  {sample_rows / jsonl['seconds'] / 1e6:5.2f} M events/s",
    )

    bare = run([sys.executable, "-c", BARE_CHILD, str(db), BARE_AGGREGATE], env, "bare aggregate")
    bare_query = json.loads(bare["output"].strip().splitlines()[-1])["query_seconds"]
    line("bare DuckDB aggregate (process)", bare, extra=f"  (query alone {bare_query:.1f} s)")

    copy = run([sys.executable, "-c", COPY_CHILD, str(db), str(work / "copy.duckdb")], env, "bare copy")
    copy_query = json.loads(copy["output"].strip().splitlines()[-1])["query_seconds"]
    line("bare DuckDB copy of the events (process)", copy, bare["seconds"], extra=f"  (query alone {copy_query:.1f} s)")

    build = [*billing, "build", "--quiet"]
    first = run(build, env, "first build")
    line("first billing build (all history)", first, bare["seconds"])
    slowest(project, work / "first_build_run_results.json")

    nightly_ingest = run([*billing, "ingest", "--quiet", str(files["nightly"])], env, "nightly ingest")
    line(f"nightly ingest ({args.events // 100:,} rows)", nightly_ingest)
    if args.streaming:
        run([sys.executable, "-c", STREAMING_CHILD, str(db), "nightly"], env, "per-event loaded_at")
    nightly = run(build, env, "nightly build")
    line("nightly billing build (1% new events)", nightly, bare["seconds"])
    slowest(project, work / "nightly_build_run_results.json")

    con = duckdb.connect(str(db), read_only=True)
    try:
        outcomes = con.execute("select outcome, count(*) from main.fct_event_outcomes group by 1 order by 1").fetchall()
        invoices = con.execute(
            "select status, count(*), sum(total) from main.fct_invoices group by 1 order by 1"
        ).fetchall()
        late = con.execute(
            "select count(*) from main.fct_invoice_line_items where line_type = 'late_usage_adjustment'"
        ).fetchone()[0]
    finally:
        con.close()
    print("outcomes: " + ", ".join(f"{o} {n:,}" for o, n in outcomes))
    print(
        "invoices: "
        + ", ".join(f"{s} {n:,} (total {t:,})" for s, n, t in invoices)
        + f"; late adjustment lines {late:,}"
    )
    print(f"database file {db.stat().st_size / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
