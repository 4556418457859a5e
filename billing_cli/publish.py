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

Example:
    >>> publish(Path("billing.duckdb"), Path("."))          # doctest: +SKIP
    Publication(path=PosixPath('billing.read.duckdb'), tables=('fct_alerts', ...))
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .db import connect, has_table
from .errors import BillingError
from .outputs import check_target

EVENT_GRAIN_MARTS = ("fct_event_outcomes",)


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: tuple[str, ...]


def default_target(db_path: Path) -> Path:
    """`billing.duckdb` -> `billing.read.duckdb`, beside it."""
    return db_path.with_name(f"{db_path.stem}.read{db_path.suffix or '.duckdb'}")


def mart_names(project_dir: Path, include_events: bool = False) -> list[str]:
    """The models of models/marts/ (their .sql files), less the event-grain ones unless asked."""
    names = sorted(p.stem for p in (project_dir / "models" / "marts").glob("*.sql"))
    return [n for n in names if include_events or n not in EVENT_GRAIN_MARTS]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish(db_path: Path, project_dir: Path, out: Path | None = None, include_events: bool = False) -> Publication:
    """Copy the marts of `db_path` into `out` (default: default_target) atomically; returns what was written."""
    target = check_target(Path(out) if out else default_target(db_path), "--out")
    if target.resolve() == db_path.resolve():
        raise BillingError(f"--out {target}: is the database itself; give another file")
    con = connect(db_path)
    try:
        tables = [n for n in mart_names(project_dir, include_events) if has_table(con, "main", n)]
        if not tables:
            raise BillingError(f"{db_path}: no marts to publish yet (run `billing build` first)")
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        tmp.unlink()  # DuckDB creates the file; an empty one is not a database to it
        try:
            con.execute(f"attach '{str(tmp).replace(chr(39), chr(39) * 2)}' as billing_publication")
            try:
                for table in tables:
                    con.execute(
                        f"create table billing_publication.main.{_quote(table)} as select * from main.{_quote(table)}"
                    )
                last_build = "(select invocation_id from main.build_log order by started_at desc limit 1)"
                invocation = last_build if has_table(con, "main", "build_log") else "null"
                con.execute(
                    "create table billing_publication.main.publication as select "
                    "cast(current_timestamp at time zone 'UTC' as timestamp) as published_at, "
                    f"cast(? as varchar) as source_database, {invocation} as last_build_invocation_id, "
                    "cast(? as varchar) as tables",
                    [str(db_path), ",".join(tables)],
                )
            finally:
                con.execute("detach billing_publication")
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
            raise
    finally:
        con.close()
    return Publication(target, tuple(tables))
