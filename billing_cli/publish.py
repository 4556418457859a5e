"""Publishing the marts for readers while the next build runs (README "Reading while a build runs").

DuckDB lets one process open a database file for writing, and while `billing build` (or `dbt build`)
holds it no other process can open it, not even to read. `publish` copies the marts of the last
successful build into a second file, by default `<database>.read.duckdb` beside it, written under a
temporary name and renamed over the previous copy in one step (`os.replace`). A BI tool or notebook
opens that copy read-only at any time: it sees the marts of one whole build, never half of one, and a
reader that has the previous copy open keeps it until it reconnects.

The marts are the models in the project's models/marts/. fct_event_outcomes (one row per raw event)
is left out unless asked for: copying it would make every build cost the whole event history.
The copy also holds `publication` (one row): when it was published (real time, UTC), from which
database, and the invocation of the newest build_log row (the last build), so a reader knows what it is looking at.

fct_usage_daily (a row per contract, day, metric and group) grows with the history too: 8.4 million
rows for 10 million events, 5 s of a nightly build to copy. So when the previous copy is exactly one
applied batch behind it, the new copy starts from a file copy of the previous one and redoes only that
batch: the (contract, day) pairs and customers of int_usage_daily_batch, the rows fct_usage_daily's
own incremental step deleted and inserted (DECISIONLOG D32, D77). `publication.usage_daily_processed_at`
records which batch of fct_usage_daily a copy holds (billing_event_batches.processed_at); anything
else (another build in between, published or not, a failed one, a full recompute, a changed column
list, no previous copy) copies the whole table, as every other mart is copied.

fct_event_load_summary (a row per load and outcome) grows the same way with a streaming loader, whose
every event is a load: 10 million rows for 10 million events. It is batch-updated alike: the loads
its incremental step recounted, those after the batch's start and those without a loaded_at, unless
attribution keys changed in the build (then it also recounted earlier loads, and is copied whole).
`publication.load_summary_processed_at` records its batch.

fct_invoices and fct_invoice_line_items keep a final invoice's rows while its version is current
(DECISIONLOG D87), and so does the copy: its rows of an invoice whose stored version (invoice_id,
invoice_version, stored_at) is still the warehouse's are kept, every other row is deleted (DRAFT rows
have no version), and the warehouse's rows of the invoices the copy no longer holds are inserted.
fct_billed_quantities too (D88), whose rows of a final invoice are also replaced when the late
adjustments billed for it or its product's names in the catalog changed. Nothing about the builds in
between is needed, only that the copy was taken from this database by the same code:
`publication.<table>_code_version` records the table's comment (its code fingerprint) when copied,
and the table is copied whole when it differs, as when the columns or the source database do.

Example:
    >>> publish(Path("billing.duckdb"), Path("."))          # doctest: +SKIP
    Publication(path=PosixPath('billing.read.duckdb'), tables=('fct_alerts', ...))
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .db import connect, has_table
from .errors import BillingError
from .outputs import check_target

EVENT_GRAIN_MARTS = ("fct_event_outcomes",)


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: tuple[str, ...]
    usage_daily: str = "copy"  # how fct_usage_daily got there: copy, batch or keep (batch_step)
    load_summary: str = "copy"  # how fct_event_load_summary got there, alike
    invoices: str = "copy"  # how the invoice tables (VERSIONED_MARTS) got there: copy or batch (version_step)


def default_target(db_path: Path) -> Path:
    """`billing.duckdb` -> `billing.read.duckdb`, beside it."""
    return db_path.with_name(f"{db_path.stem}.read{db_path.suffix or '.duckdb'}")


def mart_names(project_dir: Path, include_events: bool = False) -> list[str]:
    """The models of models/marts/ (their .sql files), less the event-grain ones unless asked."""
    names = sorted(p.stem for p in (project_dir / "models" / "marts").glob("*.sql"))
    return [n for n in names if include_events or n not in EVENT_GRAIN_MARTS]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


BATCHED = "fct_usage_daily"
# fct_usage_daily's batch, as its incremental step redid it (macros/event_batches.sql, daily_batch_*):
# its (contract, day) pairs, and its customers' every day. Two conditions, applied one after the other:
# as one `a or b`, DuckDB could not skip a row group by usage_date, and read the whole table twice
# (1.5 s of a 10 M micro-batch's publication; the table is ordered by usage_date).
DAILY_BATCH = f"main.int_usage_daily_batch where model_name = '{BATCHED}' and batch_kind"
IN_BATCH_DAYS = f"""
    usage_date between (select min(usage_date) from {DAILY_BATCH} = 'day')
                   and (select max(usage_date) from {DAILY_BATCH} = 'day')
    and exists (select 1 from main.int_usage_daily_batch as b where b.model_name = '{BATCHED}'
                and b.batch_kind = 'day' and b.contract_id = t.contract_id and b.usage_date = t.usage_date)
"""
IN_BATCH_CUSTOMERS = f"""
    customer_id in (select customer_id from {DAILY_BATCH} = 'customer')
"""
LOADS = "fct_event_load_summary"
# the loads fct_event_load_summary's step recounted: after its batch's start, and those without a
# loaded_at (each a statement of its own, so that DuckDB skips the row groups before the batch)
LOADS_AFTER = f"""
    loaded_at > (select batch_loaded_after from main.billing_build_plans where model_name = '{LOADS}'
                 order by planned_at desc limit 1)
"""


@dataclass(frozen=True)
class BatchedMart:
    """A mart the publication redoes by batch (on the previous copy) when it can."""

    processed_at: str  # the publication's column recording the batch the copy holds
    inputs: tuple[str, ...]  # the build's state its batch reads, besides the plans and applied batches
    parts: tuple[tuple[str, str], ...]  # (rows deleted from the copy, rows inserted from the warehouse)
    copy_if: str | None = None  # a count of reasons to copy it whole instead


BATCHED_MARTS = {
    BATCHED: BatchedMart(
        "usage_daily_processed_at",
        ("int_usage_daily_batch",),
        (
            (IN_BATCH_DAYS, IN_BATCH_DAYS),
            (IN_BATCH_CUSTOMERS, f"{IN_BATCH_CUSTOMERS} and not coalesce({IN_BATCH_DAYS}, false)"),
        ),
    ),
    LOADS: BatchedMart(
        "load_summary_processed_at",
        ("int_event_batch_key_changes",),
        ((LOADS_AFTER, LOADS_AFTER), ("loaded_at is null", "loaded_at is null")),
        # attribution keys changed: the build recounted earlier loads too
        copy_if=f"select count(*) from main.int_event_batch_key_changes where model_name = '{LOADS}'",
    ),
}


# the invoice tables kept by stored version (D87): a copy's row stays while the warehouse's
# fct_invoices has its invoice at that version, stored at that time; the others are replaced
VERSION_KEPT = (
    "exists (select 1 from main.fct_invoices as w "
    "where w.invoice_id = t.invoice_id and w.invoice_version = t.invoice_version and w.stored_at = t.stored_at)"
)
# fct_billed_quantities also rates a final invoice again when the late adjustments billed for it or
# its product's catalog names changed (macros/invoice_marts.sql): the copy's rows of such an invoice
# are replaced too, found as the build found them (adjusted rows compared, names against the catalog)
BILLED_QUANTITIES_CHANGED = """
    t.invoice_id in (
        select coalesce(c.invoice_id, w.invoice_id)
        from (select * from billing_publication.main.fct_billed_quantities where late_adjustment_lines > 0) as c
        full outer join (select * from main.fct_billed_quantities where late_adjustment_lines > 0) as w
            on c.billed_quantity_id = w.billed_quantity_id
        where
            c.late_adjustment_lines is distinct from w.late_adjustment_lines
            or c.late_adjusted_quantity is distinct from w.late_adjusted_quantity
    )
    or not exists (
        select 1
        from main.stg_products as p
        left join main.int_billable_metrics as m on p.billable_metric = m.billable_metric
        where
            p.product_id = t.product_id
            and p.name is not distinct from t.product_name
            and p.billable_metric is not distinct from t.billable_metric
            and m.aggregation is not distinct from t.aggregation
    )
"""
VERSIONED_MARTS = {
    table: (
        f"t.invoice_version is null or not {VERSION_KEPT}" + (f" or {changed}" if changed else ""),
        f"not exists (select 1 from billing_publication.main.{table} as c where c.invoice_id = t.invoice_id)",
    )
    for table, changed in (
        ("fct_invoices", None),
        ("fct_invoice_line_items", None),
        ("fct_billed_quantities", BILLED_QUANTITIES_CHANGED),
    )
}


def _code_version_column(table: str) -> str:
    return f"{table}_code_version"


def _code_version(con, catalog: str, table: str):
    """The fingerprint of the code that wrote the table (D87): its comment, less the invoice store it
    read (`; store ...`, D96), which changes with every stored invoice; None without one."""
    row = con.execute(
        "select comment from duckdb_tables() where database_name = ? and schema_name = 'main' and table_name = ?",
        [catalog, table],
    ).fetchone()
    return row[0].split("; store ")[0] if row and row[0] is not None else None


@contextmanager
def _previous_copy(con, previous: Path | None):
    """`previous` attached read-only as billing_previous for the block: True, or False when there is no
    copy to start from (none, a write-ahead log beside it, or not a database any more)."""
    if previous is None or not previous.exists() or Path(f"{previous}.wal").exists():
        yield False
        return
    try:
        con.execute(f"attach {_literal(previous)} as billing_previous (read_only)")
    except Exception:  # not a database any more: start afresh
        yield False
        return
    try:
        yield True
    finally:
        con.execute("detach billing_previous")


def version_step(con, previous: Path | None, tables: list[str], db_path: Path) -> str:
    """How the new copy gets the invoice tables (VERSIONED_MARTS) from `previous`: 'batch' (the rows
    of invoices whose version changed) when the copy was taken from this database by the same code
    with the same columns, else 'copy'."""
    names = list(VERSIONED_MARTS)
    if not set(names) <= set(tables):
        return "copy"
    main_catalog = con.execute("select current_database()").fetchone()[0]
    wanted = [_code_version(con, main_catalog, name) for name in names]
    if None in wanted:
        return "copy"
    with _previous_copy(con, previous) as attached:
        if not attached:
            return "copy"
        recorded = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_catalog = 'billing_previous' "
                "and table_name = 'publication'"
            ).fetchall()
        }
        if not {"source_database", *map(_code_version_column, names)} <= recorded:
            return "copy"
        if any(_columns(con, "billing_previous", name) != _columns(con, main_catalog, name) for name in names):
            return "copy"
        held = con.execute(
            "select source_database, "
            + ", ".join(_code_version_column(name) for name in names)
            + " from billing_previous.main.publication"
        ).fetchone()
    return "batch" if held == (str(db_path), *wanted) else "copy"


def _columns(con, catalog: str, table: str) -> list[tuple]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = 'main' and table_name = ? order by ordinal_position",
        [catalog, table],
    ).fetchall()


def _processed_at(con, model: str):
    """The batch `model` holds now (billing_event_batches.processed_at), None if unknown."""
    if not has_table(con, "main", "billing_event_batches"):
        return None
    row = con.execute(
        "select max(processed_at) from main.billing_event_batches where model_name = ?", [model]
    ).fetchone()
    return row[0]


def batch_step(con, previous: Path | None, tables: list[str], model: str, now) -> str:
    """How the new copy gets `model` (fct_usage_daily or fct_event_load_summary) from `previous` (the
    last copy), whose table holds batch `now` of billing_event_batches: 'keep' (no batch applied since
    the copy's), 'batch' (exactly one, incremental, by the newest build), else 'copy'."""
    mart = BATCHED_MARTS[model]
    if model not in tables:
        return "copy"
    for name in ("billing_event_batches", "billing_build_plans", *mart.inputs):
        if not has_table(con, "main", name):
            return "copy"
    if mart.copy_if and con.execute(mart.copy_if).fetchone()[0]:
        return "copy"
    with _previous_copy(con, previous) as attached:
        if not attached:
            return "copy"
        has_state = con.execute(
            "select count(*) from information_schema.columns where table_catalog = 'billing_previous' "
            "and table_name = 'publication' and column_name = ?",
            [mart.processed_at],
        ).fetchone()[0]
        main_catalog = con.execute("select current_database()").fetchone()[0]
        if not has_state or _columns(con, "billing_previous", model) != _columns(con, main_catalog, model):
            return "copy"
        held = con.execute(f"select max({mart.processed_at}) from billing_previous.main.publication").fetchone()[0]
    if held is None or now is None:
        return "copy"
    since = con.execute(
        "select invocation_id, decision, planned_at from main.billing_build_plans where model_name = ? "
        "and decision <> 'skipped' and planned_at > ?",
        [model, held],
    ).fetchall()
    if not since:
        return "keep" if held == now else "copy"
    newest = con.execute(
        "select invocation_id from main.billing_build_plans order by planned_at desc limit 1"
    ).fetchone()
    [(invocation, decision, planned_at)] = since if len(since) == 1 else [(None, None, None)]
    if decision == "incremental" and planned_at == now and newest[0] == invocation:
        return "batch"
    return "copy"


def _temporary_beside(target: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _copy_open_file(source, destination) -> None:
    """Copy an open file into another from the start: in the kernel where it can (sendfile)."""
    size = os.fstat(source.fileno()).st_size
    offset = 0
    try:
        while offset < size and (sent := os.sendfile(destination.fileno(), source.fileno(), offset, size - offset)):
            offset += sent
    except (AttributeError, OSError):  # no sendfile between files here: by reads and writes
        source.seek(offset)
        destination.seek(offset)
        shutil.copyfileobj(source, destination, 16 << 20)


class PreviousCopy:
    """The previous readers' copy, file-copied in a thread while the build runs (DECISIONLOG D98).

    A publication that batch-updates starts from a file copy of the previous copy (330 MB at 10 M
    events); right after a build, that copy waits on the build's own writes: 0.9-1.1 s of a 10 M
    micro-batch's publication against 0.1 s alone. Nothing about it depends on the build, so `billing
    build` starts it with the build and `publish` takes it when the file it copied is still the one at
    the target (same inode, size and modification time), else copies again. Both files are opened
    before the thread starts, so deleting the copy (`discard`) never races the thread creating it.

        >>> copy = PreviousCopy.start(Path("billing.read.duckdb"))     # doctest: +SKIP
        >>> publish(db, project, previous=copy)                        # doctest: +SKIP
    """

    def __init__(self, target: Path):
        self.target = target
        self.path: Path | None = None
        self._identity: tuple[int, int, int] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, target: Path) -> PreviousCopy:
        copy = cls(target)
        try:
            source = open(target, "rb")  # noqa: SIM115 (closed by the thread)
        except OSError:
            return copy  # no previous copy
        st = os.fstat(source.fileno())
        copy._identity = (st.st_ino, st.st_size, st.st_mtime_ns)
        copy.path = _temporary_beside(target)
        destination = open(copy.path, "wb")  # noqa: SIM115 (closed by the thread)
        copy._thread = threading.Thread(
            target=copy._copy, args=(source, destination), name="billing-previous-copy", daemon=True
        )
        copy._thread.start()
        return copy

    def _copy(self, source, destination) -> None:
        try:
            with source, destination:
                _copy_open_file(source, destination)
        except BaseException as e:  # re-copied by publish, which reports its own error
            self._error = e

    def take(self, target: Path) -> Path | None:
        """The copied file, now the caller's, if it holds the bytes now at `target`; else None."""
        if self._thread is not None:
            self._thread.join()
        path, self.path = self.path, None
        if path is None:
            return None
        if self._error is None and target == self.target and _identity(target) == self._identity:
            return path
        path.unlink(missing_ok=True)
        return None

    def discard(self) -> None:
        """Delete the copy without waiting for it (an interrupted build exits at once): a thread still
        copying writes on into the deleted file, whose space is freed when it is done."""
        path, self.path = self.path, None
        if path is not None:
            path.unlink(missing_ok=True)


def publish(
    db_path: Path,
    project_dir: Path,
    out: Path | None = None,
    include_events: bool = False,
    previous: PreviousCopy | None = None,
) -> Publication:
    """Copy the marts of `db_path` into `out` (default: default_target) atomically; returns what was
    written. `previous`: the previous copy, copied while the build ran (taken or discarded here)."""
    try:
        return _publish(db_path, project_dir, out, include_events, previous)
    finally:
        if previous is not None:
            previous.discard()


def _publish(db_path: Path, project_dir: Path, out, include_events: bool, previous) -> Publication:
    target = check_target(Path(out) if out else default_target(db_path), "--out")
    if target.resolve() == db_path.resolve():
        raise BillingError(f"--out {target}: is the database itself; give another file")
    con = connect(db_path)
    try:
        tables = [n for n in mart_names(project_dir, include_events) if has_table(con, "main", n)]
        if not tables:
            raise BillingError(f"{db_path}: no marts to publish yet (run `billing build` first)")
        held = {model: _processed_at(con, model) if model in tables else None for model in BATCHED_MARTS}
        steps = {model: batch_step(con, target, tables, model, held[model]) for model in BATCHED_MARTS}
        steps.update(dict.fromkeys(VERSIONED_MARTS, version_step(con, target, tables, db_path)))
        if set(steps.values()) == {"copy"}:
            tmp = _temporary_beside(target)
            tmp.unlink()  # DuckDB creates the file; an empty one is not a database to it
        elif previous is None or (tmp := previous.take(target)) is None:
            tmp = _temporary_beside(target)
            shutil.copyfile(target, tmp)  # the previous copy, whose batched tables are kept or batch-updated
        try:
            con.execute(f"attach {_literal(tmp)} as billing_publication")
            vacuum_tasks = con.execute("select current_setting('max_vacuum_tasks')").fetchone()[0]
            try:
                if not _vacuum_due(con, [t for t in tables if steps.get(t) == "batch"]):
                    con.execute("set max_vacuum_tasks = 0")  # for the copy's checkpoint (commit or detach)
                # one transaction: one commit to the copy's log instead of one per statement
                con.execute("begin transaction")
                try:
                    _write(con, tables, steps, db_path, held)
                    con.execute("commit")
                except BaseException:
                    with suppress(duckdb.Error):
                        con.execute("rollback")
                    raise
            finally:
                try:
                    con.execute("detach billing_publication")
                finally:
                    con.execute(f"set max_vacuum_tasks = {int(vacuum_tasks)}")
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
            raise
    finally:
        con.close()
    return Publication(target, tuple(tables), steps[BATCHED], steps[LOADS], steps["fct_invoices"])


# A batch-updated table of the copy keeps the rows its updates deleted until a checkpoint vacuums
# them, which rewrites the row groups they are in: 0.6 s of a micro-batch's publication for
# fct_billed_quantities, whose drafts (7% of its rows) are replaced each time (D97). The copy's
# checkpoint vacuums only once a table holds more deleted rows than this share of its rows.
DELETED_SHARE_VACUUMED = 0.25


def _vacuum_due(con, batched: list[str]) -> bool:
    """Whether the copy's checkpoint should vacuum: in the previous copy it starts from, some table
    that this publication batch-updates holds more deleted rows (DuckDB's estimated_size counts them,
    count(*) does not) than DELETED_SHARE_VACUUMED of its rows."""
    for table in batched:
        [(stored, live)] = con.execute(
            "select estimated_size, (select count(*) from billing_publication.main." + _quote(table) + ") "
            "from duckdb_tables() where database_name = 'billing_publication' and schema_name = 'main' "
            "and table_name = ?",
            [table],
        ).fetchall()
        if stored - live > live * DELETED_SHARE_VACUUMED:
            return True
    return False


def _write(con, tables: list[str], steps: dict[str, str], db_path: Path, held: dict) -> None:
    pub = "billing_publication.main"
    for (table,) in con.execute(
        "select table_name from information_schema.tables where table_catalog = 'billing_publication'"
    ).fetchall():
        if steps.get(table, "copy") == "copy":  # a batched table stays when it is kept or batch-updated
            con.execute(f"drop table {pub}.{_quote(table)}")
    for table in tables:
        target, source = f"{pub}.{_quote(table)}", f"main.{_quote(table)}"
        step = steps.get(table, "copy")
        if step == "keep":
            continue
        if step == "batch":  # every delete first: a later part's rows may have been inserted by an earlier one
            parts = BATCHED_MARTS[table].parts if table in BATCHED_MARTS else (VERSIONED_MARTS[table],)
            for deleted, _ in parts:
                con.execute(f"delete from {target} as t where {deleted}")
            for _, inserted in parts:
                con.execute(f"insert into {target} select * from {source} as t where {inserted}")
            continue
        con.execute(f"create table {target} as select * from {source}")
    last_build = "(select invocation_id from main.build_log order by started_at desc limit 1)"
    invocation = last_build if has_table(con, "main", "build_log") else "null"
    main_catalog = con.execute("select current_database()").fetchone()[0]
    code_versions = [_code_version(con, main_catalog, name) if name in tables else None for name in VERSIONED_MARTS]
    con.execute(
        f"create table {pub}.publication as select "
        # the time of writing (current_timestamp would be the transaction's start)
        "cast(? as timestamp) as published_at, "
        f"cast(? as varchar) as source_database, {invocation} as last_build_invocation_id, "
        "cast(? as varchar) as tables, "
        + ", ".join(f"cast(? as timestamp) as {mart.processed_at}" for mart in BATCHED_MARTS.values())
        + "".join(f", cast(? as varchar) as {_code_version_column(name)}" for name in VERSIONED_MARTS),
        [datetime.now(UTC).replace(tzinfo=None), str(db_path), ",".join(tables), *held.values(), *code_versions],
    )
