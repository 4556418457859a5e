"""Opening the DuckDB file, with a clear message when another process holds it.

In one process, dbt-duckdb keeps its database instance open after an in-process build; DuckDB then
only allows connections with the same configuration, so a read-only request falls back to a plain
connection to that same instance (still only read by the caller).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .errors import BillingError


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise BillingError(f"{path}: no such database yet (run `billing ingest` and `billing build` first)")
    try:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.ConnectionException:
            if not read_only:
                raise
            con = duckdb.connect(str(path))
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise BillingError(
                f"{path} is locked by another process (a running build or export?); "
                "wait for it to finish or point BILLING_DB at another file"
            ) from None
        raise BillingError(f"{path}: cannot open: {str(e).splitlines()[0]}") from None
    except duckdb.Error as e:
        raise BillingError(f"{path}: cannot open: {str(e).splitlines()[0]}") from None
    con.execute("set TimeZone = 'UTC'")
    return con


def has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return (
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchone()[0]
        > 0
    )
