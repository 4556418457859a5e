"""`billing`: a thin click group over `BillingContext` (billing_cli/context.py).

Each command is a few lines: it reads its options (each declared once below), calls one method of the
context in `ctx.obj` and prints the result. Domain errors become one-line messages.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from .context import BillingContext
from .errors import BillingError


class Interrupted(click.ClickException):
    """Ctrl-C: one line, exit 130 (128 + SIGINT), as shells report it."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("interrupted")

    def show(self, file=None) -> None:
        click.echo("interrupted", err=True)


def domain_errors(fn):
    """Domain errors become one-line messages (exit 1); Ctrl-C becomes `interrupted` (exit 130)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BillingError as e:
            raise click.ClickException(str(e)) from None
        except KeyboardInterrupt:
            raise Interrupted() from None

    return wrapper


class OneLineGroup(click.Group):
    """The `billing` group: a usage error is one line (`Error: ... (see --help)`, exit 2) rather than
    click's usage block, and Ctrl-C outside a command is `interrupted` (exit 130) (DECISIONLOG D53)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            click.echo(f"Error: {e.format_message()} (see --help)", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except click.Abort as e:
            interrupted = isinstance(e.__cause__, KeyboardInterrupt)
            click.echo("interrupted" if interrupted else "Aborted!", err=True)
            sys.exit(130 if interrupted else 1)
        sys.exit(rv if isinstance(rv, int) else 0)


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that also refuses nan (which compares false with both bounds)."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


class Destination(click.ParamType):
    """`--to`: an http(s) URL with a host (and a valid port), or an existing folder."""

    name = "URL|DIR"

    def convert(self, value, param, ctx):
        if "://" not in value and not value.lower().startswith(("http:", "https:")):
            if not Path(value).is_dir():
                self.fail(f"{value!r} is neither an http(s) URL nor an existing folder", param, ctx)
            return value
        if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
            self.fail(f"{value!r}: a URL may not contain spaces or control characters", param, ctx)
        try:
            parts = urlsplit(value)
            host, _ = parts.hostname, parts.port
        except ValueError as e:
            self.fail(f"{value!r} is not a valid URL ({e})", param, ctx)
        if parts.scheme.lower() not in ("http", "https"):
            self.fail(f"{value!r}: only http:// and https:// URLs (or a folder)", param, ctx)
        if not host:
            self.fail(f"{value!r}: the URL has no host", param, ctx)
        return value


# What the `billing_as_of` var accepts (macros/timestamps.sql, `as_of`): a date, or a date and time
# with optional fraction and offset; lower-case t and z as well.
AS_OF_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})?)?"
)


class Instant(click.ParamType):
    """`--as-of`: an RFC 3339 instant as the `billing_as_of` var reads it, checked before anything
    runs so that the message names the option (passed on as given)."""

    name = "TIMESTAMP"

    def convert(self, value, param, ctx):
        text = value.strip()
        m = AS_OF_PATTERN.fullmatch(text)
        try:
            offset = m.group(8) if m and m.group(8) not in (None, "Z", "z") else "+00:00"
            if not m or int(offset[1:3]) > 23 or int(offset[4:6]) > 59:
                raise ValueError
            datetime(*(int(g) for g in (*m.group(1, 2, 3), *(m.group(4, 5, 6) if m.group(4) else ()))))
        except ValueError:
            self.fail(f"{value!r} is not an RFC 3339 timestamp (e.g. 2025-04-02T00:00:00Z)", param, ctx)
        return text


class Threshold(click.ParamType):
    """`--max-rejections`: a number of events or a share of them (summary.RejectionLimit)."""

    name = "N|P%"

    def convert(self, value, param, ctx):
        from .summary import RejectionLimit

        try:
            return RejectionLimit.parse(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


# Options shared by several commands, declared once.
period_option = click.option(
    "--period", required=True, help="YYYY-MM: USAGE invoices starting and SCHEDULED invoices issued in it."
)
as_of_option = click.option(
    "--as-of", type=Instant(), default=None, help="Evaluate statuses as of this instant (RFC 3339); default now."
)
pass_billing = click.make_pass_decorator(BillingContext)


def out_option(help_text: str, **kwargs):
    return click.option("--out", required=True, help=help_text, **kwargs)


def command(group: click.Group, *args, **kwargs):
    """`group.command(...)` whose function receives the BillingContext and turns domain errors and
    Ctrl-C into one line."""

    def decorate(fn):
        return group.command(*args, **kwargs)(pass_billing(domain_errors(fn)))

    return decorate


@click.group(cls=OneLineGroup)
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The dbt project (default: nearest folder with dbt_project.yml, or BILLING_PROJECT_DIR).",
)
@click.option("--db", "db", default=None, help="DuckDB file (default: BILLING_DB, else billing.duckdb in the project).")
@click.version_option(package_name="warehouse-billing")
@click.pass_context
def main(ctx: click.Context, project_dir: Path | None, db: str | None) -> None:
    """Warehouse-native usage-based billing: events to invoices with dbt."""
    ctx.obj = BillingContext.create(project_dir, db, echo=click.echo)


@command(main, "compile")
@click.option("--check", is_flag=True, help="Fail if the generated models are stale; write nothing.")
@click.option(
    "--metrics-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Metric definitions (default: billable_metrics.yml in the project).",
)
@click.option(
    "--alerts-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Alert definitions (default: alerts.yml in the project; none if it does not exist).",
)
def compile_cmd(billing: BillingContext, check: bool, metrics_file: Path | None, alerts_file: Path | None) -> None:
    """Compile billable_metrics.yml and alerts.yml into dbt models (models/metrics/, models/alerts/)."""
    n_metrics, n_alerts, changed = billing.compile(check, metrics_file, alerts_file)
    if check:
        click.echo(f"{n_metrics} metric(s), {n_alerts} alert(s): generated models are up to date.")
        return
    click.echo(f"{n_metrics} metric(s), {n_alerts} alert(s) compiled; {len(changed)} file(s) changed.")
    for item in changed:
        click.echo(f"  {item}")


@command(main)
@click.argument("paths", nargs=-1, required=True)
@click.option("--quiet", is_flag=True, help="No progress lines.")
def ingest(billing: BillingContext, paths: tuple[str, ...], quiet: bool) -> None:
    """Land usage event files (JSONL, CSV, Parquet; globs allowed) into raw.usage_events."""
    click.echo(billing.ingest(list(paths), progress=None if quiet else (lambda msg: click.echo(msg, err=True))))


@command(main)
@as_of_option
@click.option("--full-refresh", is_flag=True, help="Pass --full-refresh to dbt.")
@click.option("--select", default=None, help="dbt selection.")
@click.option("--quiet", is_flag=True, help="No progress lines (dbt prints only warnings and errors anyway).")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Print `n/m status node (elapsed)` to stderr as nodes finish (default: when stderr is a terminal).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON, and nothing else, on stdout.")
@click.option(
    "--max-rejections",
    type=Threshold(),
    default=None,
    help="Exit 3 when more new events than this are rejected: a count (10) or a share (0.5%).",
)
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="After a successful DuckDB build, copy the marts for readers (see `billing publish`).",
)
def build(
    billing: BillingContext,
    as_of: str | None,
    full_refresh: bool,
    select: str | None,
    quiet: bool,
    progress: bool | None,
    as_json: bool,
    max_rejections,
    publish: bool,
) -> int:
    """Run `dbt build` (models, seeds, tests) and summarise it: events by outcome, invoices, what it
    finalized, late adjustments, alerts fired, problems. Exit 0 ok, 1 failed, 3 over --max-rejections."""
    from .build import Progress

    if progress is None:
        progress = not (quiet or as_json) and sys.stderr.isatty()
    printer = Progress(functools.partial(click.echo, err=True, nl=False), in_place=sys.stderr.isatty())
    publish = publish and billing.publishes()
    previous = billing.previous_copy() if publish else None  # copied while the build runs (D98)
    try:
        try:
            summary = billing.build_report(
                as_of, full_refresh, select, printer if progress else None, as_json, max_rejections
            )
        finally:
            printer.close()
        if not (summary.success or as_json):
            raise BillingError("dbt build failed:\n" + "\n".join(summary.problems))
        click.echo(summary.to_json() if as_json else summary.describe())
        if summary.success and publish:
            publication = billing.publish(previous=previous)
            if not as_json:
                click.echo(f"Published {len(publication.tables)} marts for readers to {publication.path}")
    finally:
        if previous is not None:
            previous.discard()
    return summary.exit_code()


@command(main)
def check(billing: BillingContext) -> None:
    """Check the project quickly, without a full build: metric and alert definitions, generated
    models up to date, seed headers against the contract, catalog problems."""
    import time

    started = time.monotonic()
    passed, warnings, problems = billing.check()
    for line in passed:
        click.echo(f"ok: {line}")
    for line in warnings:
        click.echo(f"warning:\n{line}")
    elapsed = f"checked in {time.monotonic() - started:.1f} s"
    if problems:
        raise BillingError(f"{len(problems)} problem(s) ({elapsed}):\n" + "\n".join(problems))
    click.echo(elapsed)


@command(main)
@click.argument("customer_id")
def status(billing: BillingContext, customer_id: str) -> None:
    """Live spend of CUSTOMER's current billing period by product, forecast and balances."""
    click.echo(billing.status(customer_id))


@command(main)
@click.option("--out", default=None, help="The copy to write (default: <database>.read.duckdb beside it).")
@click.option("--include-events", is_flag=True, help="Also copy fct_event_outcomes (one row per raw event).")
def publish(billing: BillingContext, out: str | None, include_events: bool) -> None:
    """Copy the marts into a read-only file for BI and notebooks (replaced whole, atomically)."""
    publication = billing.publish(out, include_events)
    click.echo(f"Published {len(publication.tables)} marts to {publication.path}")


@main.group()
def export() -> None:
    """Export tables for finance."""


@command(export, "invoices")
@period_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "parquet"]), default="csv", show_default=True)
@out_option("Output file, or an existing folder.")
def export_invoices_cmd(billing: BillingContext, period: str, fmt: str, out: str) -> None:
    """Write the invoices of a period with their line items."""
    path, invoices, lines = billing.export_invoices(period, fmt, out)
    click.echo(f"Wrote {invoices} invoice(s) with {lines} line item(s) to {path}")


@command(export, "stripe")
@period_option
@out_option("Folder for one JSON file of Stripe API requests per invoice.")
def export_stripe_cmd(billing: BillingContext, period: str, out: str) -> None:
    """Write the Stripe API requests (invoice items, invoice, finalize) for each final invoice."""
    written, skipped = billing.export_stripe(period, out)
    click.echo(f"Wrote {len(written)} Stripe invoice request file(s) to {out}; skipped {len(skipped)}.")
    for invoice_id, why in skipped.items():
        click.echo(f"  skipped {invoice_id}: {why}")


@command(main)
@click.argument("customer_id")
@period_option
@out_option("The HTML file to write.")
def statement(billing: BillingContext, customer_id: str, period: str, out: str) -> None:
    """Write CUSTOMER's usage statement for a month as a self-contained HTML page."""
    path = billing.statement(customer_id, period, out)
    click.echo(f"Wrote the {period} statement of {customer_id} to {path}")


@main.group()
def alerts() -> None:
    """Alert notifications (alerts.yml, fct_alerts)."""


@command(alerts, "deliver")
@click.option(
    "--to",
    "to",
    required=True,
    type=Destination(),
    help="Webhook URL (http:// or https://), or a folder for JSON files.",
)
@click.option(
    "--secret-env",
    default="BILLING_WEBHOOK_SECRET",
    show_default=True,
    help="Environment variable holding the HMAC-SHA256 signing secret.",
)
@click.option(
    "--max-attempts", default=5, show_default=True, type=click.IntRange(1, 100), help="Tries per notification (URL)."
)
@click.option(
    "--backoff",
    default=1.0,
    show_default=True,
    type=FiniteFloatRange(0, 3600),
    help="Seconds before the first retry; doubles each time (each wait at most an hour).",
)
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=FiniteFloatRange(0, 3600, min_open=True),
    help="Seconds one attempt may take in all: connect, send and read the whole response.",
)
def alerts_deliver_cmd(
    billing: BillingContext, to: str, secret_env: str, max_attempts: int, backoff: float, timeout: float
) -> None:
    """Send alert firings not yet delivered to TO as signed webhooks {id, type, properties}."""
    report = billing.deliver_alerts(
        to, os.environ.get(secret_env), max_attempts=max_attempts, backoff=backoff, timeout=timeout
    )
    click.echo(f"Delivered {len(report.delivered)} notification(s) to {to} in {report.attempts} attempt(s).")
    if report.failed:
        details = "\n".join(f"  {nid}: {error}" for nid, error in report.failed.items())
        raise BillingError(f"{len(report.failed)} notification(s) not delivered (retried on the next run):\n{details}")


@main.group()
def invoices() -> None:
    """List, show and render invoices; void and regenerate final ones."""


invoice_argument = click.argument("invoice", metavar="INVOICE")


@command(invoices, "list")
@click.option("--customer", "customer_id", default=None, help="Only this customer's invoices.")
def list_cmd(billing: BillingContext, customer_id: str | None) -> None:
    """Every invoice: stored ones by number (issued or void), then drafts (DECISIONLOG D63)."""
    from .documents import describe_list

    click.echo(describe_list(billing.list_invoices(customer_id)))


@command(invoices, "show")
@invoice_argument
def show_cmd(billing: BillingContext, invoice: str) -> None:
    """Print INVOICE (a number such as INV-0001, or an invoice id) with its lines and totals."""
    from .documents import describe_invoice

    click.echo(describe_invoice(billing.invoice(invoice)))


@command(invoices, "render")
@invoice_argument
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@out_option("The file to write (.html or .pdf).")
def render_cmd(billing: BillingContext, invoice: str, fmt: str, out: str) -> None:
    """Write INVOICE as the document a customer receives: HTML, or PDF printed by headless Chromium."""
    from .documents import Issuer

    path, doc = billing.render_invoice(invoice, fmt, out)
    click.echo(f"Wrote invoice {doc.title} ({doc.header['invoice_id']}) to {path}")
    if doc.issuer.name == Issuer.name:
        click.echo(
            f'Note: the issuer reads "{Issuer.name}": put your company\'s details in '
            f"{billing.project_dir / 'issuer.yml'} before you send it (README, Documents).",
            err=True,
        )


@command(invoices, "void")
@click.argument("invoice_id")
@click.option("--reason", required=True, help="Why (kept in billing_audit.invoice_audit_log).")
@click.option("--actor", default=None, help="Who (default: $USER).")
@click.option(
    "--as-of",
    type=Instant(),
    default=None,
    help="Regenerate as of this instant (RFC 3339); default: the as-of of the last build.",
)
@click.option(
    "--also-finalize",
    is_flag=True,
    help="Let the regenerating build finalize other invoices that are due at the as-of.",
)
@click.option("--no-regenerate", is_flag=True, help="Only void; the next build regenerates the invoice.")
def void_cmd(
    billing: BillingContext,
    invoice_id: str,
    reason: str,
    actor: str | None,
    as_of: str | None,
    also_finalize: bool,
    no_regenerate: bool,
) -> None:
    """Void a FINALIZED invoice and regenerate it as its next version (DECISIONLOG D31, D45).

    The regenerating build runs as of the last build (or --as-of) and is rehearsed on a copy of the
    database first: if it would finalize any other invoice, nothing is done unless --also-finalize.
    Both versions are kept in billing_audit.invoice_audit_log."""
    import getpass

    billing.void(invoice_id, reason, actor or getpass.getuser(), as_of, also_finalize, regenerate=not no_regenerate)


@command(main)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo_output"),
    show_default=True,
    help="Folder for the demo's event files and exports.",
)
@click.option(
    "--as-of", type=Instant(), default="2025-04-02T12:00:00Z", show_default=True, help="Build as of this instant."
)
def demo(billing: BillingContext, out: Path, as_of: str) -> None:
    """Run the AutoSales demo (examples/autosales) end to end in OUT/autosales/, on a new DuckDB file
    (--db, else OUT/autosales.duckdb)."""
    billing.demo(out, as_of)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", default=None, help="Start from an example's catalog and metrics (e.g. autosales).")
@domain_errors
def init(directory: Path, example: str | None) -> None:
    """Create a new billing project in DIRECTORY: the dbt models, header-only seeds, an empty
    billable_metrics.yml (commented), no alerts and a short README."""
    from .init import init_project

    project = init_project(directory, example)
    click.echo(f"Created a billing project in {project}")
    click.echo("Next: fill seeds/*.csv and billable_metrics.yml, then")
    click.echo(f"  cd {project} && billing compile && billing ingest EVENTS_FILE && billing build")


def run() -> None:
    """The `billing` console script: one command, then the process ends without tearing down what
    dbt built (DECISIONLOG D80). After a build the interpreter would spend 0.7-0.9 s freeing the
    parsed manifest, Jinja contexts and compiled templates object by object; exit handlers
    (logging's flush among them) still run and the standard streams are flushed. A process with
    other threads still running exits the ordinary way, which waits for them. Tests call `main`
    (through CliRunner), which this does not change.

        billing build   # console script -> run() -> main() -> os._exit(status)
    """
    from . import build

    build.exits_after_command()
    try:
        main()
        status = 0
    except SystemExit as e:
        status = e.code
    _exit_now(status)


def _exit_now(status) -> None:
    """Exit with `status` (as sys.exit takes it) after the exit handlers, skipping the teardown."""
    import atexit
    import threading

    if not isinstance(status, int):
        if status is not None:
            print(status, file=sys.stderr)
        status = 0 if status is None else 1
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
