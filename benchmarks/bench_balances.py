"""Benchmark: credits and commits at scale (issue 4).

Builds a throwaway copy of the project with N contracts (default 10,000), each billed monthly for
36 periods (Jan 2023 - Dec 2025) with 3 usage products and 5 balances (2 credits, a paid and a
complimentary prepaid commit, a postpaid commit; restrictions by product and by tag; overlapping
windows), then reports:

  - the first full `dbt build` (wall time, peak memory of the build process), which stores the
    35 final periods, and a second one, which rates only the open period;
  - the balance models alone (`dbt build --select` of them and their tests, in a fresh process):
    time per model, wall time and peak memory;
  - the same data through bare DuckDB queries: one group-by of the eligible charges (the floor any
    drawdown must pay to read its input) and one running-sum window (one pass of the drawdown), and
    the ratio of the drawdown models to them.

Usage: python benchmarks/bench_balances.py [--contracts 10000] [--work /tmp/billing-bench-balances]
Peak memory is the child process's max RSS (DuckDB runs in-process with dbt).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "tests"))

from conftest import SEED_COLUMNS, seed_csv  # noqa: E402

from billing_cli import metrics as metrics_mod  # noqa: E402
from billing_cli.db import connect  # noqa: E402

AS_OF = "2025-12-31T12:00:00Z"
BALANCE_MODELS = [
    "int_balances",
    "int_balance_eligible_charges",
    "int_balance_drawdown_passes",
    "int_balance_drawdowns",
    "int_applied_balance_line_items",
    "int_commit_true_ups",
]
METRICS = """billable_metrics:
  - {name: calls, event_type: call, aggregation: sum, property: n}
  - {name: gigabytes, event_type: store, aggregation: sum, property: n}
  - {name: cpu_seconds, event_type: compute, aggregation: sum, property: n}
"""


def write_seed(folder: Path, name: str, rows=()) -> None:
    """rows: dicts by column name; the header is every column the contract lists (tests/conftest.py)."""
    (folder / f"{name}.csv").write_text(seed_csv(name, list(rows)))


def make_project(work: Path, contracts: int) -> Path:
    project = work / "project"
    if work.exists():
        shutil.rmtree(work)
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
    for name in SEED_COLUMNS:
        write_seed(seeds, name)
    write_seed(seeds, "customers", ({"customer_id": f"c{i}", "name": f"Customer {i}"} for i in range(contracts)))
    write_seed(
        seeds,
        "products",
        [
            {"product_id": "api", "name": "API calls", "type": "USAGE", "billable_metric": "calls"},
            {
                "product_id": "storage",
                "name": "Storage",
                "type": "USAGE",
                "billable_metric": "gigabytes",
                "tags": '["premium"]',
            },
            {"product_id": "compute", "name": "Compute", "type": "USAGE", "billable_metric": "cpu_seconds"},
        ],
    )
    write_seed(seeds, "rate_cards", [{"rate_card_id": "rc", "name": "List"}])
    write_seed(
        seeds,
        "rate_card_rates",
        [
            {
                "rate_card_id": "rc",
                "product_id": product,
                "starting_at": "2020-01-01",
                "rate_type": "FLAT",
                "price": price,
            }
            for product, price in (("api", "1"), ("storage", "0.5"), ("compute", "0.25"))
        ],
    )
    write_seed(
        seeds,
        "contracts",
        (
            {
                "contract_id": f"k{i}",
                "customer_id": f"c{i}",
                "rate_card_id": "rc",
                "name": f"Contract {i}",
                "starting_at": "2023-01-01",
            }
            for i in range(contracts)
        ),
    )
    write_seed(
        seeds,
        "contract_credits",
        (
            row
            for i in range(contracts)
            for row in [
                {
                    "credit_id": f"k{i}-credit",
                    "contract_id": f"k{i}",
                    "name": "Welcome credit",
                    "amount": str(500 + (i % 7) * 50),
                    "access_starting_at": "2023-01-01",
                    "access_ending_before": "2024-01-01",
                    "priority": "1",
                },
                {
                    "credit_id": f"k{i}-storage",
                    "contract_id": f"k{i}",
                    "name": "Storage credit",
                    "amount": "100",
                    "access_starting_at": "2023-01-01",
                    "applicable_product_ids": '["storage"]',
                },
            ]
        ),
    )
    write_seed(
        seeds,
        "contract_commits",
        (
            row
            for i in range(contracts)
            for row in [
                {
                    "commit_id": f"k{i}-prepaid",
                    "contract_id": f"k{i}",
                    "type": "PREPAID",
                    "name": "API prepaid",
                    "amount": "3000",
                    "access_starting_at": "2023-01-01",
                    "access_ending_before": "2025-01-01",
                    "invoice_at": "2023-01-01",
                    "applicable_product_ids": '["api"]',
                    "priority": "2",
                },
                {
                    "commit_id": f"k{i}-bonus",
                    "contract_id": f"k{i}",
                    "type": "PREPAID",
                    "name": "Premium bonus",
                    "amount": "300",
                    "access_starting_at": "2023-07-01",
                    "access_ending_before": "2024-07-01",
                    "applicable_product_tags": '["premium"]',
                    "priority": "2",
                },
                {
                    "commit_id": f"k{i}-postpaid",
                    "contract_id": f"k{i}",
                    "type": "POSTPAID",
                    "name": "Annual minimum",
                    "amount": str(5000 + (i % 5) * 1000),
                    "access_starting_at": "2024-01-01",
                    "access_ending_before": "2026-01-01",
                },
            ]
        ),
    )
    return project


def land_events(db_path: Path, contracts: int) -> int:
    """One event per (contract, product, month): 36 x 3 per contract, amounts varying by contract."""
    con = connect(db_path)
    try:
        con.execute("create schema if not exists raw")
        con.execute("""create table if not exists raw.usage_events (transaction_id varchar, customer_id varchar,
            event_type varchar, timestamp varchar, properties varchar, loaded_at timestamp, source_file varchar,
            source_line bigint, ingest_error varchar)""")
        con.execute(f"""
            insert into raw.usage_events
            select
                'e-' || c.range || '-' || m.range || '-' || p.event_type,
                'c' || c.range,
                p.event_type,
                strftime(timestamp '2023-01-10 12:00:00' + to_months(cast(m.range as integer)), '%Y-%m-%dT%H:%M:%SZ'),
                '{{"n": ' || (50 + (c.range * 7 + m.range * 13 + p.k) % 100) || '}}',
                timestamp '2023-01-11 00:00:00' + to_months(cast(m.range as integer)),
                'bench', row_number() over (), null
            from range({contracts}) c, range(36) m,
                (values ('call', 1), ('store', 2), ('compute', 3)) p(event_type, k)""")
        return con.execute("select count(*) from raw.usage_events").fetchone()[0]
    finally:
        con.close()


CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from billing_cli.build import DbtProject
project = DbtProject(Path({project!r}), Path({db!r}))
project.parse()
started = time.perf_counter()
result = project.build(as_of={as_of!r}, select={select!r}, exclude={exclude!r})
print(json.dumps({{"seconds": time.perf_counter() - started, "success": result.success,
                   "problems": result.problems[:5]}}))
"""


def run_build(project: Path, db_path: Path, select: str | None = None, exclude: str | None = None) -> dict:
    """dbt build in a child process; returns its timing, success and peak RSS (MB)."""
    code = CHILD.format(
        repo=str(REPO), project=str(project), db=str(db_path), as_of=AS_OF, select=select, exclude=exclude
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    report = json.loads(output.strip().splitlines()[-1])
    report["peak_rss_mb"] = usage.ru_maxrss / 1024
    if not report["success"]:
        raise SystemExit(f"build failed: {report['problems']}")
    timings = json.loads((project / "target" / "run_results.json").read_text())["results"]
    report["models"] = {
        r["unique_id"].split(".")[-1]: r["execution_time"] for r in timings if r["unique_id"].startswith("model.")
    }
    return report


def bare_queries(db_path: Path) -> dict:
    con = connect(db_path)
    try:
        figures = {}
        for name, sql in {
            "group_by": "create or replace temp table t as select contract_id, balance_id, sum(amount) as s "
            "from main.int_balance_eligible_charges group by contract_id, balance_id",
            "one_window_pass": "create or replace temp table t as select line_item_id, sum(amount) over "
            "(partition by contract_id, balance_id order by period_starting_at, starting_at, "
            "product_id, ending_before, line_item_id rows between unbounded preceding and "
            "current row) as s from main.int_balance_eligible_charges",
        }.items():
            best = None
            for _ in range(3):
                started = time.perf_counter()
                con.execute(sql)
                elapsed = time.perf_counter() - started
                best = elapsed if best is None else min(best, elapsed)
            figures[name] = best
        figures["rows"] = {
            t: con.execute(f"select count(*) from main.{t}").fetchone()[0]
            for t in (
                "int_usage_invoice_charges",
                "int_balance_eligible_charges",
                "int_balance_drawdowns",
                "int_open_invoices",
            )
        }
        return figures
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/billing-bench-balances"))
    args = parser.parse_args()

    started = time.perf_counter()
    project = make_project(args.work, args.contracts)
    db_path = (args.work / "bench.duckdb").resolve()
    events = land_events(db_path, args.contracts)
    print(
        f"setup: {args.contracts:,} contracts x 36 monthly periods x 3 products x 5 balances; "
        f"{events:,} events landed ({time.perf_counter() - started:.1f} s)"
    )

    # 1. everything up to the store (nothing final yet), then the balance models alone: the drawdown
    #    over all 36 periods of every contract
    run_build(project, db_path, exclude="invoice_store+")
    balances = run_build(project, db_path, select=" ".join(BALANCE_MODELS))
    model_seconds = sum(balances["models"].get(m, 0.0) for m in BALANCE_MODELS)
    print(
        f"balance models:      {balances['seconds']:7.1f} s   peak RSS {balances['peak_rss_mb']:7.0f} MB "
        f"(36 open periods; sum of model times {model_seconds:.1f} s, dbt runs independent models in parallel)"
    )
    for model in BALANCE_MODELS:
        print(f"  {model:32s} {balances['models'].get(model, 0.0):6.2f} s")
    bare = bare_queries(db_path)
    # 2. the first complete build stores the 35 final periods; the next one rates only the open one
    full = run_build(project, db_path)
    print(
        f"first dbt build:     {full['seconds']:7.1f} s   peak RSS {full['peak_rss_mb']:7.0f} MB "
        "(everything, 36 periods; stores the 35 final ones)"
    )
    again = run_build(project, db_path)
    print(
        f"next dbt build:      {again['seconds']:7.1f} s   peak RSS {again['peak_rss_mb']:7.0f} MB "
        "(nothing new: only the open period is rated and drawn down)"
    )

    rows = bare.pop("rows")
    print("rows: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()))
    drawdown = balances["models"]["int_balance_drawdown_passes"] + balances["models"]["int_balance_drawdowns"]
    print(
        f"bare DuckDB on the same eligible charges: group-by {bare['group_by']:.2f} s, "
        f"one running-sum window {bare['one_window_pass']:.2f} s"
    )
    print(
        f"ratios: drawdown (passes + unpivot) / group-by = {drawdown / bare['group_by']:.1f}x, "
        f"/ one window pass = {drawdown / bare['one_window_pass']:.1f}x; "
        f"all balance models / group-by = {model_seconds / bare['group_by']:.1f}x"
    )


if __name__ == "__main__":
    main()
