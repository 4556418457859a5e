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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BillingError
from .project import database_path, find_project_dir

if TYPE_CHECKING:  # imported lazily at run time: importing dbt costs seconds
    from .build import BuildResult, DbtProject

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
        self, as_of: str | None = None, full_refresh: bool = False, select: str | None = None, quiet: bool = True
    ) -> BuildResult:
        """`dbt build` on the project; an error naming dbt's problems when it fails."""
        from .db import connect

        if os.environ.get("BILLING_TARGET", "duckdb") == "duckdb":
            connect(self.db).close()  # a database held by another process: one line, before dbt starts
        result = self.dbt(quiet).build(as_of=as_of, full_refresh=full_refresh, select=select)
        if not result.success:
            raise BillingError("dbt build failed:\n" + "\n".join(result.problems))
        return result

    def publish(self, out: str | None = None, include_events: bool = False):
        """Copy the marts into a file readers open while the next build runs (billing_cli/publish.py)."""
        from .publish import publish

        if os.environ.get("BILLING_TARGET", "duckdb") != "duckdb":
            raise BillingError("publish copies a DuckDB warehouse; on Spark, readers query the tables directly")
        return publish(self.db, self.project_dir, Path(out) if out else None, include_events)

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
