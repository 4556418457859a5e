"""Shared fixtures: throwaway copies of the dbt project with their own seeds, metrics and DuckDB file.

A `BillingTestProject` copies dbt_project.yml, profiles/, macros/ and models/ into a temp folder,
writes the seeds and billable_metrics.yml a test gives (header-only CSVs for the rest), compiles the
metrics, lands events and runs `dbt build` in-process (parsed once per project).

Parsing a project from scratch costs seconds and every test project is a copy of the same models and
macros, so each in-process parse starts from the previous one's partial-parse file (tests/parse_cache.py):
dbt re-parses only the files whose contents differ (seeds, compiled metrics, a file a test edits)
and falls back to a full parse whenever its own checks say so. dbt writes no logs/dbt.log and no
JSON artifacts (TEST_DBT_FLAGS); a test that reads them sets DbtProject.extra_flags back to ().
"""

from __future__ import annotations

import atexit
import csv
import io
import json
import os
import shutil
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import parse_cache
import pytest
import yaml

from billing_cli import dbt_speedups
from billing_cli import metrics as metrics_mod
from billing_cli.build import DbtProject
from billing_cli.compiler import compile_project
from billing_cli.db import connect
from billing_cli.ingest import ingest

REPO = Path(__file__).resolve().parent.parent

parse_cache.install()
# dbt writes no logs/dbt.log and no run_results.json / manifest.json: nothing in a build needs them
TEST_DBT_FLAGS = ("--log-level-file", "none", "--no-write-json")
DbtProject.extra_flags = TEST_DBT_FLAGS
# The generic column_rules tests (macros/column_rules.sql: a model's keys unique and not null, its codes
# among the accepted values; 56 test nodes, a sixth of a small build's CPU) run in the builds that ask for
# them: the merged build of every scenario module (test_spark_parity), each step of the incremental
# equality test, the last build of the year story and of the store's stories (a key repeated in the store
# stays there), the streaming loader's (whose plans are checked), and every build the CLI runs. Plain
# `dbt build` and `billing build` always run them.
COLUMN_RULES = "test_name:column_rules"
ALL_COLUMN_RULES = os.environ.get("BILLING_TEST_COLUMN_RULES") == "all"


# dbt's work that nothing reads (billing_cli/dbt_speedups.py: events below every logger's level, the macro
# namespace filed one macro at a time, agate type testers), left out as in every `billing` build; with
# TEST_DBT_FLAGS and the console at warn, that is every debug and info event a callback does not read
dbt_speedups.install()

# Jinja's compiled code (billing_cli/jinja_cache.py) is kept in a folder of this test process (and of
# the children it starts: killed builds, CLI runs), not in the user's cache: each test process
# compiles every template once, then reuses the code in every later build.
_JINJA_CACHE = tempfile.mkdtemp(prefix="billing-jinja-")
os.environ["BILLING_CACHE_DIR"] = _JINJA_CACHE
atexit.register(shutil.rmtree, _JINJA_CACHE, True)

# Files with the longest runs go first, so that two xdist workers (make test: `-n 2 --dist loadfile
# --no-loadscope-reorder`, each file whole on one worker, so module fixtures build once and Spark
# stays in one JVM) finish together rather than one waiting on the other at the end.
SLOW_FIRST = [
    "test_spark_parity.py",
    "test_year_of_operations.py",
    "test_incremental.py",
    "test_finalization.py",
    "test_store_over_time.py",
]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


# The contract's columns of each catalog seed: the keys of its +column_types in dbt_project.yml (their one list).
SEED_COLUMNS = {
    name: ",".join(config["+column_types"])
    for name, config in yaml.safe_load((REPO / "dbt_project.yml").read_text())["seeds"]["billing"].items()
    if isinstance(config, dict) and "+column_types" in config
}


def seed_csv(name: str, rows: list[dict]) -> str:
    """CSV text for a seed: the contract's columns in order, missing keys empty, lists/maps as JSON."""
    columns = SEED_COLUMNS[name].split(",")
    unknown = {k for row in rows for k in row} - set(columns)
    assert not unknown, f"{name}: unknown columns {unknown}"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = []
        for c in columns:
            v = row.get(c)
            if isinstance(v, (list, dict)):
                v = json.dumps(v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            values.append("" if v is None else v)
        writer.writerow(values)
    return buf.getvalue()


class BillingTestProject:
    def __init__(self, root: Path):
        self.root = root
        self.dir = root / "project"
        self.db_path = root / "billing.duckdb"
        self.dir.mkdir(parents=True)
        for item in ("dbt_project.yml",):
            shutil.copy(REPO / item, self.dir / item)
        for folder in ("profiles", "macros", "models"):
            shutil.copytree(
                REPO / folder,
                self.dir / folder,
                ignore=shutil.ignore_patterns("metrics", "alerts") if folder == "models" else None,
            )
        shutil.copytree(REPO / "tests" / "dbt", self.dir / "tests" / "dbt")
        (self.dir / "seeds").mkdir()
        for name, header in SEED_COLUMNS.items():
            (self.dir / "seeds" / f"{name}.csv").write_text(header + "\n")
        self._dbt: DbtProject | None = None
        self._loads = 0

    def release(self) -> BillingTestProject:
        """Close dbt-duckdb's connection (held for the life of the process otherwise): the file on disk
        is whole, and another process (a killed build, a CLI child) can open it."""
        if self._dbt is not None:
            self._dbt.release()
        return self

    def copy(self, root: Path) -> BillingTestProject:
        """This project with its DuckDB file, loads and parse copied under root: a prepared database
        that several tests start from (each changes its own copy) instead of building it again."""
        self.release()
        other = object.__new__(BillingTestProject)
        shutil.copytree(self.root, root)
        other.root, other.dir, other.db_path = root, root / "project", root / "billing.duckdb"
        other._dbt, other._loads = None, self._loads
        return other

    # -- configuration ------------------------------------------------------------------------
    def seeds(self, **tables: list[dict]) -> BillingTestProject:
        for name, rows in tables.items():
            (self.dir / "seeds" / f"{name}.csv").write_text(seed_csv(name, rows))
        return self

    def metrics(self, yaml_text: str) -> BillingTestProject:
        (self.dir / "billable_metrics.yml").write_text(yaml_text)
        return self._compile()

    def alerts(self, yaml_text: str) -> BillingTestProject:
        (self.dir / "alerts.yml").write_text(yaml_text)
        return self._compile()

    def _compile(self) -> BillingTestProject:
        if not (self.dir / "billable_metrics.yml").exists():
            (self.dir / "billable_metrics.yml").write_text("billable_metrics: []\n")
        compiled, _, _ = compile_project(self.dir)
        metrics_mod.write_compiled(self.dir, compiled)
        return self

    # -- data and runs --------------------------------------------------------------------------
    def ingest(self, events: list[dict], loaded_at: str | datetime | None = None, raw_lines: list[str] = ()):
        """Land events (dicts, written as JSONL; raw_lines appended verbatim) as one load."""
        self._loads += 1
        path = self.root / f"load_{self._loads}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for e in events:
                fh.write(json.dumps(e) + "\n")
            for line in raw_lines:
                fh.write(line + "\n")
        if isinstance(loaded_at, str):
            loaded_at = datetime.fromisoformat(loaded_at.replace("Z", "+00:00")).replace(tzinfo=None)
        return ingest(self.db_path, [str(path)], loaded_at=loaded_at)

    def parse(self):
        """dbt's parse of the project (its manifest), as its first build does it, without building."""
        if self._dbt is None:
            if not (self.dir / "models" / "metrics").exists():
                self._compile()
            self._dbt = DbtProject(self.dir, self.db_path)
        return self._dbt.parse()

    def build(
        self,
        as_of: str | None = None,
        expect_success: bool = True,
        data_tests: bool = True,
        column_rules: bool = False,
        **kwargs,
    ):
        """`dbt build` in-process. data_tests=False leaves out the dbt data tests (a third of a small
        build's time): for the steps of a story before the one whose state the invariants check.

        The singular data tests (tests/dbt: one outcome per raw event, invoice totals, the store) run in
        every build with data tests. The generic `column_rules` tests (COLUMN_RULES) run where asked
        (column_rules=True), or everywhere with BILLING_TEST_COLUMN_RULES=all."""
        skipped = [] if data_tests else ["resource_type:test"]
        if data_tests and not (column_rules or ALL_COLUMN_RULES):
            skipped.append(COLUMN_RULES)
        if skipped:
            kwargs["exclude"] = " ".join(filter(None, [kwargs.get("exclude"), *skipped]))
        self.parse()
        result = self._dbt.build(as_of=as_of, **kwargs)
        if expect_success:
            assert result.success, result.describe()
        return result

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        con = connect(self.db_path)
        try:
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            con.close()

    def invoices(self, contract_id: str | None = None) -> list[dict]:
        where = "where contract_id = ?" if contract_id else ""
        return self.query(
            f"select * from main.fct_invoices {where} order by contract_id, issued_at, invoice_type",
            [contract_id] if contract_id else [],
        )

    def lines(self, contract_id: str | None = None) -> list[dict]:
        where = "where contract_id = ?" if contract_id else ""
        return self.query(
            f"select * from main.fct_invoice_line_items {where} "
            "order by contract_id, starting_at, product_id, line_type",
            [contract_id] if contract_id else [],
        )

    def assert_invoice_tables_current(self) -> None:
        """The invoice tables kept across builds by invoice version (DECISIONLOG D87) hold what their
        queries compute from scratch: fct_invoice_line_items and fct_invoices the final invoices as
        stored now and the open ones of the last build (build_log's newest); int_stored_invoice_line_items
        the lines of the invoices final when that build started (the store without the rows it added);
        fct_billed_quantities what the first two bill per period line, late adjustments added up."""

        def columns(table: str) -> str:
            names = [
                r["column_name"]
                for r in self.query(
                    "select column_name from information_schema.columns where table_schema = 'main' "
                    "and table_name = ? order by ordinal_position",
                    [table],
                )
            ]
            return ", ".join(names)

        def rows(sql: str, params=()) -> list[str]:
            return sorted(repr(tuple(r.values())) for r in self.query(sql, list(params)))

        def unstored(names: str, stored_only: tuple[str, ...]) -> str:
            return ", ".join(f"null as {n}" if n in stored_only else n for n in names.split(", "))

        lines, invoices = columns("fct_invoice_line_items"), columns("fct_invoices")
        expected = {
            "fct_invoice_line_items": (
                f"select {lines} from main.finalized_invoice_line_items union all "
                f"select {unstored(lines, ('invoice_version', 'stored_at'))} from main.int_open_invoice_line_items "
                "where invoice_id not in (select invoice_id from main.finalized_invoices)",
                (),
            ),
            "fct_invoices": (
                f"select {invoices} from main.finalized_invoices union all "
                f"select {unstored(invoices, ('invoice_version', 'stored_at', 'stored_as_of'))} "
                "from main.int_open_invoices where invoice_id not in (select invoice_id from main.finalized_invoices)",
                (),
            ),
            "int_stored_invoice_line_items": (
                "with store as (select * from main.invoice_store where stored_by_invocation_id is distinct from ?), "
                "latest as (select invoice_id, max(invoice_version) as invoice_version from store "
                "where record_type = 'invoice' group by invoice_id), "
                "current_versions as (select * from latest where not exists (select 1 from store where "
                "record_type = 'void' and store.invoice_id = latest.invoice_id "
                "and store.invoice_version = latest.invoice_version)) "
                f"select {', '.join('store.' + n for n in columns('int_stored_invoice_line_items').split(', '))} "
                "from store join current_versions using (invoice_id, invoice_version) where record_type = 'line'",
                (
                    self.query("select invocation_id from main.build_log order by started_at desc limit 1")[0][
                        "invocation_id"
                    ],
                ),
            ),
        }
        # fct_billed_quantities: each period invoice's usage lines with the late adjustments billed for
        # them on later invoices added up (keyed by the adjusted invoice), as the invoice tables hold them now
        billed = [n for n in columns("fct_billed_quantities").split(", ") if n != "billed_quantity_id"]
        expected["fct_billed_quantities"] = (
            "with parts as (select case when line_type = 'usage' then invoice_id else adjusted_invoice_id end as inv, "
            "contract_id, customer_id, product_id, starting_at, ending_before, pricing_group_values, "
            "presentation_group_values, line_type, quantity from main.fct_invoice_line_items "
            "where line_type = 'usage' or (line_type = 'late_usage_adjustment' and adjusted_line_type = 'usage')), "
            "grouped as (select inv, contract_id, customer_id, product_id, starting_at, max(ending_before) as ending_before, "
            "pricing_group_values, presentation_group_values, "
            "sum(case when line_type = 'usage' then quantity else 0 end) as invoiced_quantity, "
            "sum(case when line_type = 'usage' then 0 else quantity end) as late_adjusted_quantity, "
            "count(case when line_type = 'usage' then null else 1 end) as late_adjustment_lines "
            "from parts group by all), "
            "computed as (select g.contract_id, g.customer_id, g.inv as invoice_id, i.status as invoice_status, "
            "i.invoice_version, i.stored_at, i.period_starting_at, i.period_ending_before, g.product_id, "
            "p.name as product_name, p.billable_metric, m.aggregation, g.starting_at, g.ending_before, "
            "g.pricing_group_values, g.presentation_group_values, "
            "cast(g.invoiced_quantity + g.late_adjusted_quantity as decimal(38, 10)) as quantity, "
            "cast(g.invoiced_quantity as decimal(38, 10)) as invoiced_quantity, "
            "cast(g.late_adjusted_quantity as decimal(38, 10)) as late_adjusted_quantity, "
            "g.late_adjustment_lines from grouped as g join main.fct_invoices as i on g.inv = i.invoice_id "
            "left join main.stg_products as p on g.product_id = p.product_id "
            "left join main.int_billable_metrics as m on p.billable_metric = m.billable_metric) "
            f"select {', '.join(billed)} from computed",
            (),
        )
        for table, (sql, params) in expected.items():
            if table == "fct_billed_quantities":
                held = rows(f"select {', '.join(billed)} from main.fct_billed_quantities")
            else:
                held = rows(f"select * from main.{table}")
            computed = rows(sql, params)
            assert held == computed, (
                f"{table} differs from its query ({len(held)} rows held, {len(computed)} computed):\n"
                + "\n".join(sorted(set(held) ^ set(computed))[:6])
            )

    def assert_invoice_tables_published(self) -> str:
        """Publish the readers' copy (billing_cli/publish.py) and check that it holds the invoice tables
        kept by invoice version (D87, D88) as the warehouse does; returns how they got there: `copy`
        (whole) or `batch` (the rows of changed invoices replaced in the previous copy)."""
        import duckdb

        from billing_cli.publish import VERSIONED_MARTS, publish

        publication = publish(self.db_path, self.dir)
        con = duckdb.connect(str(publication.path), read_only=True)
        try:
            for table in VERSIONED_MARTS:
                copy = sorted(repr(row) for row in con.execute(f"select * from {table}").fetchall())
                held = sorted(repr(tuple(r.values())) for r in self.query(f"select * from main.{table}"))
                assert copy == held, f"the published {table} differs ({publication.invoices}):\n" + "\n".join(
                    sorted(set(copy) ^ set(held))[:6]
                )
        finally:
            con.close()
        return publication.invoices

    def outcomes(self) -> dict[str, tuple[str, str | None]]:
        """transaction_id -> (outcome, reason); only rows with a transaction_id."""
        return {
            r["transaction_id"]: (r["outcome"], r["reason"])
            for r in self.query(
                "select transaction_id, outcome, reason from main.fct_event_outcomes where transaction_id is not null "
                "and outcome <> 'duplicate'"
            )
        }


@pytest.fixture
def make_project(tmp_path):
    """Factory: make_project() -> a fresh BillingTestProject under tmp_path."""
    counter = {"n": 0}

    def factory() -> BillingTestProject:
        counter["n"] += 1
        return BillingTestProject(tmp_path / f"p{counter['n']}")

    return factory


def D(value) -> Decimal:
    return Decimal(str(value))


def pytest_configure(config):
    """make test runs two test files at once on two cores: a build on one dbt thread costs about a fifth
    less CPU than on the profile's default two (a scenario build: 7.8 s CPU against 9.6 s); test_cli's
    build-then-export runs with the default. Set for test runs only: the benchmarks import this module
    for its seed helpers and build with a user's default."""
    os.environ.setdefault("BILLING_THREADS", "1")
