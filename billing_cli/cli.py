"""`billing`: a thin click group over the domain modules; domain errors become one-line messages."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import metrics as metrics_mod
from .errors import BillingError
from .project import database_path, find_project_dir


def domain_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BillingError as e:
            raise click.ClickException(str(e)) from None
    return wrapper


@click.group()
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The dbt project (default: nearest folder with dbt_project.yml, or BILLING_PROJECT_DIR).")
@click.option("--db", "db", default=None, help="DuckDB file (default: BILLING_DB, else billing.duckdb in the project).")
@click.version_option(package_name="warehouse-billing")
@click.pass_context
def main(ctx: click.Context, project_dir: Path | None, db: str | None) -> None:
    """Warehouse-native usage-based billing: events to invoices with dbt."""
    ctx.ensure_object(dict)
    ctx.obj["project_dir"] = project_dir.resolve() if project_dir else find_project_dir()
    ctx.obj["db"] = db


def _project(ctx) -> Path:
    return ctx.obj["project_dir"]


def _db(ctx) -> Path:
    return database_path(_project(ctx), ctx.obj["db"])


@main.command("compile")
@click.option("--check", is_flag=True, help="Fail if the generated models are stale; write nothing.")
@click.option("--metrics-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Metric definitions (default: billable_metrics.yml in the project).")
@click.pass_context
@domain_errors
def compile_cmd(ctx, check: bool, metrics_file: Path | None) -> None:
    """Compile billable_metrics.yml into dbt models under models/metrics/."""
    project = _project(ctx)
    path = metrics_file or project / "billable_metrics.yml"
    definitions = metrics_mod.load_metrics(path)
    compiled = metrics_mod.compile_metrics(definitions)
    if check:
        stale = metrics_mod.stale_files(project, compiled)
        if stale:
            raise BillingError("generated metric models are stale; run `billing compile`:\n  " + "\n  ".join(stale))
        click.echo(f"{len(definitions)} metric(s): generated models are up to date.")
        return
    changed = metrics_mod.write_compiled(project, compiled)
    click.echo(f"{len(definitions)} metric(s) compiled; {len(changed)} file(s) changed.")
    for item in changed:
        click.echo(f"  {item}")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.pass_context
@domain_errors
def ingest(ctx, paths: tuple[str, ...], quiet: bool) -> None:
    """Land usage event files (JSONL, CSV, Parquet; globs allowed) into raw.usage_events."""
    from .ingest import describe, ingest as do_ingest

    progress = None if quiet else (lambda msg: click.echo(msg, err=True))
    summary = do_ingest(_db(ctx), list(paths), progress=progress)
    click.echo(describe(summary))


@main.command()
@click.option("--as-of", default=None, help="Evaluate statuses as of this instant (RFC 3339); default now.")
@click.option("--full-refresh", is_flag=True, help="Pass --full-refresh to dbt.")
@click.option("--select", default=None, help="dbt selection.")
@click.option("--quiet", is_flag=True, help="Only warnings and errors from dbt.")
@click.pass_context
@domain_errors
def build(ctx, as_of: str | None, full_refresh: bool, select: str | None, quiet: bool) -> None:
    """Run `dbt build` (models, seeds, tests) on the project."""
    from .build import DbtProject

    project = DbtProject(_project(ctx), _db(ctx), quiet=quiet)
    result = project.build(as_of=as_of, full_refresh=full_refresh, select=select)
    if not result.success:
        raise BillingError("dbt build failed:\n" + "\n".join(result.problems))
    click.echo(f"dbt build succeeded: {result.describe()}")


@main.group()
def export() -> None:
    """Export tables for finance."""


@export.command("invoices")
@click.option("--period", required=True, help="YYYY-MM: USAGE invoices starting and SCHEDULED invoices issued in it.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "parquet"]), default="csv", show_default=True)
@click.option("--out", required=True, help="Output file, or an existing folder.")
@click.pass_context
@domain_errors
def export_invoices_cmd(ctx, period: str, fmt: str, out: str) -> None:
    """Write the invoices of a period with their line items."""
    from .export import export_invoices

    path, invoices, lines = export_invoices(_db(ctx), period, fmt, out)
    click.echo(f"Wrote {invoices} invoice(s) with {lines} line item(s) to {path}")


@main.group()
def invoices() -> None:
    """Void and regenerate final invoices."""


@invoices.command("void")
@click.argument("invoice_id")
@click.option("--reason", required=True, help="Why (kept in billing_audit.invoice_audit_log).")
@click.option("--actor", default=None, help="Who (default: $USER).")
@click.option("--as-of", default=None, help="Regenerate as of this instant (RFC 3339); default now.")
@click.option("--no-regenerate", is_flag=True, help="Only void; the next build regenerates the invoice.")
@click.pass_context
@domain_errors
def void_cmd(ctx, invoice_id: str, reason: str, actor: str | None, as_of: str | None, no_regenerate: bool) -> None:
    """Void a FINALIZED invoice and regenerate it from the current events and catalog.

    Both versions are kept in billing_audit.invoice_audit_log."""
    import getpass

    from .build import DbtProject
    from .invoices import record_regenerated, void_invoice

    who = actor or getpass.getuser()
    old = void_invoice(_db(ctx), invoice_id, reason, who)
    click.echo(f"Voided invoice {invoice_id} (total {old['total']}); the old version is in the audit log.")
    if no_regenerate:
        return
    result = DbtProject(_project(ctx), _db(ctx)).build(as_of=as_of)
    if not result.success:
        raise BillingError("dbt build failed; the invoice stays voided until a build succeeds:\n"
                           + "\n".join(result.problems))
    new = record_regenerated(_db(ctx), invoice_id, reason, who)
    if new is None:
        click.echo(f"Invoice {invoice_id} was not regenerated (its period no longer exists or is not final yet).")
    else:
        click.echo(f"Regenerated invoice {invoice_id}: total {new['total']} (was {old['total']}).")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo_output"),
              show_default=True, help="Folder for the demo's event files and exports.")
@click.option("--as-of", default="2025-04-02T12:00:00Z", show_default=True, help="Build as of this instant.")
@click.pass_context
@domain_errors
def demo(ctx, out: Path, as_of: str) -> None:
    """Run the AutoSales demo end to end on a fresh DuckDB: events, build, CSV export, summary."""
    from .demo import run_demo

    run_demo(_project(ctx), _db(ctx), out, as_of, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
