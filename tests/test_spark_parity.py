"""Parity: the project's scenarios built on DuckDB and on Spark give identical invoices, line items,
event outcomes, daily usage and balance ledger entries: the same rows, amounts equal as exact decimals
(same digits, same scale).

Spark is the profile's `spark` target (dbt-spark's session method on local pyspark, plain Parquet
tables). One SparkSession serves the whole module: dbt-spark starts it on the first invocation and
reuses it. Each scenario's raw events are landed by `billing ingest` into DuckDB (the loader is not
what is compared) and copied as they are into Spark's raw.usage_events; then one `dbt build` runs on
each engine with the scenario's billing_as_of.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

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
# The dbt data tests run on Spark in the first scenario (their SQL is the same for every scenario);
# the others build models and seeds only, to keep the module within a few minutes.
SPARK_DATA_TESTS_IN = "billing_scenarios"
# On DuckDB, a scenario's data tests already ran where its own module builds prepare() on a fresh
# project at the same as-of (its `project` fixture or test): the same state, so the DuckDB build here
# is models and seeds only. fuzz_events' module builds other random batches: its tests run here.
DUCKDB_DATA_TESTS_IN = {"fuzz_events"}

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


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_duckdb_and_spark_bill_the_same(scenario, spark_dir, tmp_path):
    from pyspark.sql import SparkSession

    project = BillingTestProject(tmp_path / scenario)
    as_of = SCENARIOS[scenario].prepare(project)
    started = time.monotonic()
    project.build(as_of=as_of, exclude=None if scenario in DUCKDB_DATA_TESTS_IN else "resource_type:test")
    duckdb_seconds = time.monotonic() - started

    started = time.monotonic()
    dbt = DbtProject(project.dir, project.db_path, target="spark")
    dbt.run_operation("create_raw_usage_events_now")  # the first call starts the SparkSession
    spark = SparkSession.builder.getOrCreate()
    for schema in ("main", "raw"):  # the previous scenario's tables
        spark.sql(f"drop database if exists {schema} cascade")
    dbt.run_operation("create_raw_usage_events_now")
    landed = land_raw_events_in_spark(spark, project)
    result = dbt.build(as_of=as_of, exclude=None if scenario == SPARK_DATA_TESTS_IN else "resource_type:test")
    assert result.success, result.describe()
    spark_seconds = time.monotonic() - started
    print(f"{scenario}: {landed} raw events; DuckDB build {duckdb_seconds:.1f} s, Spark {spark_seconds:.1f} s")

    for table in COMPARED:
        duck_columns, duck = duckdb_rows(project, table)
        spark_columns, on_spark = spark_rows(spark, table)
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
