"""The one domain object the CLI works through: a project, its database and its dbt runner.

As in SQLMesh, `billing`'s commands build one `BillingContext` (kept in click's `ctx.obj`) and each
command is a few lines calling one of its methods; the methods hold the orchestration (what runs in
which order) and return plain results that the command prints. The domain modules (ingest, export,
invoices, ...) stay free of click and are usable from Python:

    >>> from billing_cli.context import BillingContext
    >>> billing = BillingContext.create(project_dir=None, db="/tmp/billing.duckdb")
    >>> billing.build(as_of="2025-04-02T00:00:00Z").success   # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BillingError
from .project import database_path, find_project_dir

if TYPE_CHECKING:  # imported lazily at run time: importing dbt costs seconds
    from .build import BuildResult, DbtProject
    from .summary import BuildSummary, RejectionLimit

# `billing check` builds these models and their parents only: the seeds (each checks its header
# against the contract's columns), staging and the catalog checks; not their tests (the catalog
# problems are read from int_catalog_problems).
CATALOG_CHECKS = "+int_catalog_problems"
NO_TESTS = "resource_type:test resource_type:unit_test"

Echo = Callable[[str], None]


@dataclass
class BillingContext:
    """A dbt project folder and the DuckDB file it builds into (absolute; exported as BILLING_DB)."""

    project_dir: Path
    db_option: str | None = None  # --db as given; None means BILLING_DB, else billing.duckdb in the project
    echo: Echo = print
    _dbt: DbtProject | None = field(default=None, repr=False)

    @classmethod
    def create(cls, project_dir: Path | None, db: str | None, echo: Echo = print) -> BillingContext:
        return cls(project_dir.resolve() if project_dir else find_project_dir(), db, echo)

    @cached_property
    def db(self) -> Path:
        return database_path(self.project_dir, self.db_option)

    def dbt(self, quiet: bool = True) -> DbtProject:
        """The project's in-process dbt runner; parsed once per process and reused."""
        from .build import DbtProject

        if self._dbt is None:
            self._dbt = DbtProject(self.project_dir, self.db, quiet=quiet)
        self._dbt.quiet = quiet
        return self._dbt

    # -- metrics and alerts ----------------------------------------------------------------------
    def compile(
        self, check: bool = False, metrics_file: Path | None = None, alerts_file: Path | None = None
    ) -> tuple[int, int, list[str]]:
        """Generate the metric and alert models: (metrics, alerts, files changed). With `check`, write
        nothing and fail when a generated file is stale."""
        from . import metrics as metrics_mod
        from .compiler import compile_project

        compiled, n_metrics, n_alerts = compile_project(self.project_dir, metrics_file, alerts_file)
        if check:
            stale = metrics_mod.stale_files(self.project_dir, compiled)
            if stale:
                raise BillingError("generated models are stale; run `billing compile`:\n  " + "\n  ".join(stale))
            return n_metrics, n_alerts, []
        return n_metrics, n_alerts, metrics_mod.write_compiled(self.project_dir, compiled)

    # -- events and builds -----------------------------------------------------------------------
    def ingest(self, paths: list[str], progress: Echo | None = None) -> str:
        from .ingest import describe, ingest

        return describe(ingest(self.db, paths, progress=progress))

    def build(
        self,
        as_of: str | None = None,
        full_refresh: bool = False,
        select: str | None = None,
        quiet: bool = True,
        progress=None,
        log_level: str | None = None,
    ) -> BuildResult:
        """`dbt build` on the project; refused before dbt starts when the generated models are stale
        or the database is held by another process. `progress`: a dbt event callback."""
        self.compile(check=True)  # stale generated models: "run `billing compile`", before dbt starts
        self._refuse_a_locked_database()
        return self.dbt(quiet).build(
            as_of=as_of, full_refresh=full_refresh, select=select, progress=progress, log_level=log_level
        )

    def build_report(
        self,
        as_of: str | None = None,
        full_refresh: bool = False,
        select: str | None = None,
        progress=None,
        json_output: bool = False,
        max_rejections: RejectionLimit | None = None,
    ) -> BuildSummary:
        """`billing build`: the build, then its summary read from the warehouse (billing_cli/summary.py).
        With `json_output` dbt prints nothing (the JSON is the only output)."""
        from . import metrics as metrics_mod
        from .summary import BuildSummary, events_watermark, read_summary

        watermark = events_watermark(self.db) if self._on_duckdb() else None
        started = time.monotonic()
        result = self.build(as_of, full_refresh, select, progress=progress, log_level="none" if json_output else "warn")
        elapsed = time.monotonic() - started
        if not self._on_duckdb():
            summary = BuildSummary(result.success, round(elapsed, 1), dict(result.counts), result.invocation_id)
            summary.warnings, summary.problems = list(result.warnings), list(result.problems)
            return summary
        metrics = metrics_mod.load_metrics(self.project_dir / "billable_metrics.yml")
        summary = read_summary(self.db, result, elapsed, watermark, metrics)
        summary.apply_limit(max_rejections)
        return summary

    def check(self) -> tuple[list[str], list[str], list[str]]:
        """`billing check`, without a full build: (what passed, warnings, problems). Metric and alert
        definitions and their generated models, then the seeds (headers against the contract's
        columns) and the catalog checks, built with their parents only (CATALOG_CHECKS)."""
        from .summary import catalog_problems

        passed: list[str] = []
        problems: list[str] = []
        try:
            n_metrics, n_alerts, _ = self.compile(check=True)
            passed.append(f"{n_metrics} metric(s), {n_alerts} alert(s): valid, generated models up to date")
        except BillingError as e:
            problems.append(str(e))
        self._refuse_a_locked_database()
        result = self.dbt().build(select=CATALOG_CHECKS, exclude=NO_TESTS, log_level="none")
        if not result.success:
            problems.append("seeds and catalog:\n" + "\n".join(result.problems))
        elif self._on_duckdb() and (found := catalog_problems(self.db)):
            problems.append(f"{len(found)} catalog problem(s):\n" + "\n".join(f"  {p.describe()}" for p in found))
        else:
            passed.append(f"seeds and catalog: {sum(result.counts.values())} node(s) built, no problems")
        return passed, list(result.warnings), problems

    @staticmethod
    def _on_duckdb() -> bool:
        return os.environ.get("BILLING_TARGET", "duckdb") == "duckdb"

    def _refuse_a_locked_database(self) -> None:
        """A DuckDB file held by another process: one line, before dbt starts (DECISIONLOG D53)."""
        from .db import connect

        if self._on_duckdb():
            connect(self.db).close()

    @staticmethod
    def publishes() -> bool:
        """Whether the target is DuckDB, whose file one writer holds (Spark readers query the tables)."""
        return os.environ.get("BILLING_TARGET", "duckdb") == "duckdb"

    def publish(self, out: str | None = None, include_events: bool = False, previous=None):
        """Copy the marts into a file readers open while the next build runs (billing_cli/publish.py);
        `previous`: the previous copy's file copy, started by `previous_copy`."""
        from .publish import publish

        if not self.publishes():
            raise BillingError("publish copies a DuckDB warehouse; on Spark, readers query the tables directly")
        return publish(self.db, self.project_dir, Path(out) if out else None, include_events, previous)

    def previous_copy(self):
        """Start copying the default readers' copy for the publication after a build (publish.PreviousCopy)."""
        from .publish import PreviousCopy, default_target

        return PreviousCopy.start(default_target(self.db))

    # -- reading ---------------------------------------------------------------------------------
    def status(self, customer_id: str) -> str:
        from .status import customer_status

        return customer_status(self.db, customer_id)

    def export_invoices(self, period: str, fmt: str, out: str) -> tuple[Path, int, int]:
        from .export import export_invoices

        return export_invoices(self.db, period, fmt, out)

    def export_stripe(self, period: str, out: str) -> tuple[list, dict[str, str]]:
        from .stripe import export_stripe

        return export_stripe(self.db, period, out)

    def statement(self, customer_id: str, period: str, out: str) -> Path:
        from .statement import write_statement

        return write_statement(self.db, customer_id, period, out, self.project_dir)

    def list_invoices(self, customer_id: str | None = None) -> list[dict]:
        from .documents import list_invoices

        return list_invoices(self.db, self.project_dir, customer_id)

    def invoice(self, ref: str):
        """The document of an invoice (a number such as ACME-0001, or an invoice id; DECISIONLOG D63)."""
        from .documents import load_invoice

        return load_invoice(self.db, self.project_dir, ref)

    def render_invoice(self, ref: str, fmt: str, out: str):
        from .documents import write_invoice

        return write_invoice(self.db, self.project_dir, ref, fmt, out)

    def deliver_alerts(self, to: str, secret: str | None, **options):
        from .webhooks import deliver

        return deliver(self.db, to, secret, **options)

    # -- corrections -----------------------------------------------------------------------------
    def void(
        self,
        invoice_id: str,
        reason: str,
        actor: str,
        as_of: str | None = None,
        also_finalize: bool = False,
        regenerate: bool = True,
    ) -> None:
        """Void a final invoice and (unless `regenerate` is false) regenerate it as its next version,
        as of the last build or `as_of`, refusing to finalize anything else (DECISIONLOG D45)."""
        from .invoices import finalized_version, void_and_regenerate, void_invoice

        finalized_version(self.db, invoice_id)  # drafts and unknown ids are refused before anything else
        if not reason.strip():
            raise BillingError("a reason is required to void an invoice")
        if not regenerate:
            old = void_invoice(self.db, invoice_id, reason, actor)
            self.echo(
                f"Voided invoice {invoice_id} version {old['invoice_version']} (total {old['total']}); "
                "the next build regenerates it."
            )
            return
        void_and_regenerate(self.dbt(), invoice_id, reason, actor, as_of, also_finalize, echo=self.echo)

    # -- the demo --------------------------------------------------------------------------------
    def demo(self, out: Path, as_of: str) -> Path:
        """The AutoSales demo (examples/autosales, in a project of its own under `out`) into `--db` when
        one is given (a new file), else `out`/autosales.duckdb."""
        from .demo import run_demo

        return run_demo(Path(self.db_option).resolve() if self.db_option else None, out, as_of, echo=self.echo)
