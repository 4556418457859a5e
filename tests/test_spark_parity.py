"""Parity: the project's scenarios built on DuckDB and on Spark give identical invoices, line items,
event outcomes, daily usage and balance ledger entries: the same rows, amounts equal as exact decimals
(same digits, same scale).

Spark is the profile's `spark` target (dbt-spark's session method on local pyspark, plain Parquet
tables). A Spark build costs mostly a fixed time per node, so the scenarios are not built one by one:
each module's prepare() is recorded (tests/parity_merge.py), every id it writes gets the scenario's
name as a prefix, and all of them land in ONE project, built once on each engine with the dbt data
tests (the invariants; on Spark without the column rules of intermediate, staging and metric models).
The raw events are landed by `billing ingest` into DuckDB (the loader is not what is compared) and
copied as they are into Spark's raw.usage_events.

As-of: the latest the scenarios ask for (input_guards' 2025-07-02T12:00Z, June final), so every
scenario's own periods are there and past; what each contributes at that instant:
- billing_scenarios: FINALIZED Jan-Jun USAGE invoices (every aggregation, alias, offsets, overrides,
  clipped, CONTRACT_START and QUARTERLY periods), DRAFT July ones ($0), SCHEDULED invoices of one-time
  and monthly charges, one rejection of each kind it sends;
- balances: credits, prepaid and postpaid commits drawn, expired and trued up over FINALIZED invoices
  (the ledger); rating_prices, rating_groups, rating_composite, sql_metrics: FINALIZED January and
  February lines of every price model, group and SQL metric; rating_subscriptions: ADVANCE fees on
  SCHEDULED invoices and ARREARS fees on USAGE invoices, also on the July DRAFTs (rating_composite's
  too, with its composite lines); fuzz_events and input_guards: the outcome of every malformed event
  (together with billing_scenarios, every rejection reason), usage in FINALIZED invoices and a credit
  drawn on a DRAFT (fuzz_events).
Not kept: a DRAFT inside the grace period (billing_scenarios' February as of Mar 1): a status the same
comparison of as-of and period end decides for every invoice. None of the scenarios produces late
usage adjustments (they need a second build after later loads), here or in their own modules.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import parity_merge
import pytest
import test_balances
import test_billing_scenarios
import test_fuzz_events
import test_input_guards
import test_rating_composite
import test_rating_groups
import test_rating_prices
import test_rating_subscriptions
import test_sql_metrics
from conftest import BillingTestProject

from billing_cli.build import DbtProject

# The column rules (macros/column_rules.sql: not null, unique, accepted values; about 50 test nodes, a
# second or more each on Spark) of intermediate, staging and metric models run on DuckDB only: the marts'
# and the store's, which run on both engines, prove the macro's SQL on Spark, and the tables the others
# check feed those that the comparisons below find equal on both engines.
SPARK_SKIPS = " ".join(
    f"test_name:column_rules,path:models/{folder}" for folder in ("intermediate", "staging", "metrics")
)

# Spark settings of this test's session (see spark_dir), for a few thousand rows in a JVM that lives
# two minutes: most of Spark's CPU here is planning and starting work, not computing rows
SPARK_TEST_CONF = {
    # expressions interpreted rather than compiled to Java (Janino) for each query: the interpreted
    # form is Spark's own fallback, with the same results (282 to 248 CPU-s)
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    # tables of a few kB: no Snappy, and each task's files committed in place, not renamed at the
    # job's end (248 to 216 CPU-s)
    "spark.sql.parquet.compression.codec": "uncompressed",
    "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "2",
    "spark.shuffle.compress": "false",
    "spark.broadcast.compress": "false",
    # optimizer rules for large partitioned tables, and the SQL tab's history (the UI is off)
    "spark.sql.optimizer.runtime.bloomFilter.enabled": "false",
    "spark.sql.optimizer.dynamicPartitionPruning.enabled": "false",
    "spark.sql.ui.retainedExecutions": "1",
    "spark.locality.wait": "0",
}

# name -> module with prepare(project) -> as_of (the catalog, metrics and events of its scenarios)
SCENARIOS = {
    "billing_scenarios": test_billing_scenarios,  # aggregations, aliases, offsets, overrides, periods, rejections
    "balances": test_balances,  # credits, prepaid and postpaid commits, drawdown passes
    "rating_prices": test_rating_prices,  # tiered, volume, package, conversion, rounding, overrides
    "rating_subscriptions": test_rating_subscriptions,  # advance and arrears fees, proration
    "rating_groups": test_rating_groups,  # pricing and presentation groups (canonical JSON text)
    "rating_composite": test_rating_composite,  # PERCENTAGE of component amounts
    "sql_metrics": test_sql_metrics,  # SQL billable metrics
    "fuzz_events": test_fuzz_events,  # random and malformed events: the same outcomes
    "input_guards": test_input_guards,  # offsets up to 23:59, leap seconds, out-of-range fields
}
# table -> its key columns (rows are compared as whole rows; the key only orders them)
COMPARED = {
    "fct_invoices": ["invoice_id"],
    "fct_invoice_line_items": ["line_item_id"],
    "fct_event_outcomes": ["transaction_id", "loaded_at", "source_file", "source_line"],
    "fct_usage_daily": ["contract_id", "usage_date", "billable_metric", "group_values"],
    "fct_balance_ledger": ["balance_id", "effective_at", "entry_type", "invoice_id"],
}


@pytest.fixture(scope="module")
def spark_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BILLING_SPARK_DIR", str(directory))
        # The build's tables and views live for this process only: Spark's in-memory catalog, not the
        # users' default Hive metastore in Derby, which costs a metastore round trip per table and
        # view lookup (and seconds to create). Parquet files and dbt-spark's statements are the same.
        patch.setenv("BILLING_SPARK_CATALOG", "in-memory")
        # A JVM that lives two minutes on small data, beside the other pytest worker on two cores: the
        # quick JIT compiler only and one garbage-collector thread use about 30 s less CPU (15%) for a
        # few seconds more of this module
        patch.setenv("BILLING_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        # one task per stage on a few thousand rows: half the tasks to schedule (the Spark build took
        # 157 s against 174 s with the profile's 2, and the machine's CPU 326 s against 352 s)
        patch.setenv("BILLING_SPARK_SHUFFLE_PARTITIONS", "1")
        # Engine settings that change how Spark computes, never what (spark-defaults.conf, which
        # spark-submit reads from SPARK_CONF_DIR; the profile's own settings still apply). Together:
        # 206-216 CPU-s for this module against 282 (alone on this machine), its Spark build
        # 97-100 s against 125 s.
        conf = directory / "conf"
        conf.mkdir()
        (conf / "spark-defaults.conf").write_text("".join(f"{key} {value}\n" for key, value in SPARK_TEST_CONF.items()))
        patch.setenv("SPARK_CONF_DIR", str(conf))
        yield directory


def _normalise(value):
    """A value as compared: timestamps as text to the microsecond, decimals with their scale."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")  # strftime writes year 1 as "1"
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    return value


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


# the real time the storing build started (DECISIONLOG D43): each engine's build has its own
VOLATILE = {"stored_at"}


def _stable(columns: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    keep = [i for i, c in enumerate(columns) if c not in VOLATILE]
    return [columns[i] for i in keep], _sorted([tuple(row[i] for i in keep) for row in rows])


def duckdb_rows(project: BillingTestProject, table: str) -> tuple[list[str], list[tuple]]:
    rows = project.query(f"select * from main.{table}")
    columns = (
        list(rows[0])
        if rows
        else [
            r["column_name"]
            for r in project.query(
                "select column_name from information_schema.columns where table_schema = 'main' and table_name = ? "
                "order by ordinal_position",
                [table],
            )
        ]
    )
    return _stable(columns, [tuple(_normalise(r[c]) for c in columns) for r in rows])


def spark_rows(spark, table: str) -> tuple[list[str], list[tuple]]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    frame = spark.table(f"main.{table}")
    # timestamps formatted by Spark itself (session time zone UTC), not by Python's local time zone
    frame = frame.select(
        [
            F.date_format(F.col(f.name), "yyyy-MM-dd HH:mm:ss.SSSSSS").alias(f.name)
            if isinstance(f.dataType, TimestampType)
            else F.col(f.name)
            for f in frame.schema.fields
        ]
    )
    return _stable(frame.columns, [tuple(_normalise(v) for v in row) for row in frame.collect()])


def land_raw_events_in_spark(spark, project: BillingTestProject) -> int:
    """Copy DuckDB's raw.usage_events into Spark's (created by the project's on-run-start macro)."""
    rows = project.query("select * from raw.usage_events")
    target = spark.table("raw.usage_events")
    columns = target.columns

    def value(v):
        # an aware datetime converts to Spark's instant without Python's local time zone
        return v.replace(tzinfo=UTC) if isinstance(v, datetime) else v

    if rows:
        spark.createDataFrame([tuple(value(r[c]) for c in columns) for r in rows], target.schema).write.insertInto(
            "raw.usage_events"
        )
    return len(rows)


def _seconds_since(started: float) -> float:
    return round(time.monotonic() - started, 1)


@pytest.fixture(scope="module")
def merged(spark_dir, tmp_path_factory):
    """Every scenario in one project, built (models, seeds and data tests) on DuckDB and on Spark
    (there without the column rules of SPARK_SKIPS)."""
    from pyspark.sql import SparkSession

    scenarios, as_ofs = [], []
    for name, module in SCENARIOS.items():
        recorded = parity_merge.RecordingProject()
        as_ofs.append(module.prepare(recorded))
        scenarios.append(parity_merge.namespaced(name, recorded))
    as_of = max(as_ofs, key=lambda text: datetime.fromisoformat(text.replace("Z", "+00:00")))
    project = BillingTestProject(tmp_path_factory.mktemp("merged"))
    files = parity_merge.write_merged(project, scenarios)

    started = time.monotonic()
    project.build(as_of=as_of, column_rules=True)  # every scenario module's data: every column rule
    duckdb_seconds = _seconds_since(started)

    started = time.monotonic()
    dbt = DbtProject(project.dir, project.db_path, target="spark")
    dbt.run_operation("create_raw_usage_events_now")  # the first call starts the SparkSession
    spark = SparkSession.builder.getOrCreate()
    landed = land_raw_events_in_spark(spark, project)
    result = dbt.build(as_of=as_of, exclude=SPARK_SKIPS)
    assert result.success, result.describe()
    spark_seconds = _seconds_since(started)
    print(
        f"\n{len(scenarios)} scenarios as of {as_of}: {landed} raw events; "
        f"DuckDB build {duckdb_seconds} s, Spark {spark_seconds} s"
    )
    return MergedBuild(project, spark, scenarios, files)


class MergedBuild:
    def __init__(self, project, spark, scenarios, files):
        self.project, self.spark, self.scenarios, self.files = project, spark, scenarios, files

    def per_scenario(self, sql: str) -> dict[str, int]:
        """{scenario: count} from rows of (id, n), the id carrying the scenario's prefix."""
        counts: dict[str, int] = {}
        for row in self.project.query(sql):
            key, n = row.values()
            name = next((s.name for s in self.scenarios if key.startswith(f"{s.name}__")), None)
            assert name is not None, f"{key}: no scenario's prefix"
            counts[name] = counts.get(name, 0) + n
        return counts


def test_the_merged_build_holds_every_scenario(merged):
    """The merge dropped no scenario: each one's landed rows all have an outcome, its metrics metered
    events, its contracts have invoices and line items."""
    outcomes: dict[str, dict[str, int]] = {}
    for row in merged.project.query(
        "select source_file, outcome, count(*) as n from main.fct_event_outcomes group by all"
    ):
        scenario = merged.files[Path(row["source_file"]).name]
        counts = outcomes.setdefault(scenario, {})
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + row["n"]
    invoices = merged.per_scenario("select contract_id, count(*) from main.fct_invoices group by all")
    lines = merged.per_scenario("select contract_id, count(*) from main.fct_invoice_line_items group by all")
    for scenario in merged.scenarios:
        assert sum(outcomes.get(scenario.name, {}).values()) == scenario.rows_landed, scenario.name
        if scenario.metrics and scenario.rows_landed:
            assert outcomes[scenario.name].get("metered", 0) > 0, (scenario.name, outcomes[scenario.name])
        if scenario.seed_rows.get("contracts"):
            assert invoices.get(scenario.name, 0) > 0, scenario.name
            assert lines.get(scenario.name, 0) > 0, scenario.name


# what the scenarios produce together, which the merged build must keep
STATES = {
    "invoice status": ("select distinct status from main.fct_invoices", {"DRAFT", "FINALIZED"}),
    "invoice type": ("select distinct invoice_type from main.fct_invoices", {"USAGE", "SCHEDULED"}),
    "outcome": (
        "select distinct outcome from main.fct_event_outcomes",
        {"metered", "unmetered", "duplicate", "rejected"},
    ),
    "rejection reason": (
        "select distinct reason from main.fct_event_outcomes where outcome = 'rejected'",
        set(test_fuzz_events.REASONS),
    ),
    "line type": (
        "select distinct line_type from main.fct_invoice_line_items",
        {
            "usage",
            "subscription",
            "composite",
            "scheduled",
            "commit_purchase",
            "applied_credit",
            "applied_commit",
            "commit_true_up",
        },
    ),
    "ledger entry": (
        "select distinct entry_type from main.fct_balance_ledger",
        {"SEGMENT_START", "INVOICE_DEDUCTION", "EXPIRATION", "TRUEUP"},
    ),
}


@pytest.mark.parametrize("state", list(STATES))
def test_the_merged_build_keeps_every_state(merged, state):
    sql, expected = STATES[state]
    assert {row[next(iter(row))] for row in merged.project.query(sql)} >= expected


@pytest.mark.parametrize("table", list(COMPARED))
def test_duckdb_and_spark_bill_the_same(merged, table):
    duck_columns, duck = duckdb_rows(merged.project, table)
    spark_columns, on_spark = spark_rows(merged.spark, table)
    assert duck, f"{table}: no rows to compare"
    assert spark_columns == duck_columns, table
    missing = [row for row in duck if row not in on_spark]
    extra = [row for row in on_spark if row not in duck]
    assert not missing and not extra, (
        f"{table}: rows only on DuckDB:\n"
        + "\n".join(map(str, missing[:20]))
        + "\nrows only on Spark:\n"
        + "\n".join(map(str, extra[:20]))
    )
    assert on_spark == duck, f"{table}: same rows, different multiplicities"
