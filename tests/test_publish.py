"""Publishing the marts for readers (billing_cli/publish.py): a read-only copy that another process
opens while this one holds the warehouse, replaced whole by the next publication, never half-written.

One small build (the composite-pricing scenario) serves every case; the expected tables and row
counts are read from the warehouse itself, the copy must match them table for table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest
import test_rating_composite
from conftest import BillingTestProject

from billing_cli import publish as publish_mod
from billing_cli.errors import BillingError
from billing_cli.publish import default_target, publish

READER = """
import duckdb, json, sys
try:
    con = duckdb.connect(sys.argv[1], read_only=True)
except duckdb.Error as e:
    print(json.dumps({"error": type(e).__name__}))
    sys.exit(0)
tables = [r[0] for r in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
print(json.dumps(counts))
"""


def read_in_other_process(path) -> dict:
    """Open `path` read-only from a separate Python process; table -> row count, or {"error": ...}."""
    out = subprocess.run([sys.executable, "-c", READER, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    p = BillingTestProject(tmp_path_factory.mktemp("publish") / "p")
    as_of = test_rating_composite.prepare(p)
    p.build(as_of=as_of, exclude="resource_type:test")
    return p


def source_counts(p, tables) -> dict:
    return {t: p.query(f"select count(*) as n from main.{t}")[0]["n"] for t in tables}


def test_the_copy_holds_every_mart_but_event_outcomes_and_opens_while_the_warehouse_is_held(built):
    publication = publish(built.db_path, built.dir)
    assert publication.path == default_target(built.db_path) == built.db_path.with_name("billing.read.duckdb")
    marts = sorted(f.stem for f in (built.dir / "models" / "marts").glob("*.sql"))
    assert "fct_invoices" in marts and "fct_event_outcomes" in marts
    assert list(publication.tables) == [m for m in marts if m != "fct_event_outcomes"]

    # this process holds the warehouse open (dbt-duckdb keeps it): another process cannot open it ...
    assert read_in_other_process(built.db_path) == {"error": "IOException"}
    # ... but it reads the copy: every published mart with the warehouse's row count, and the stamp
    seen = read_in_other_process(publication.path)
    assert seen.pop("publication") == 1
    assert seen == source_counts(built, publication.tables)
    assert seen["fct_invoices"] > 0 and seen["fct_invoice_line_items"] > 0

    con = duckdb.connect(str(publication.path), read_only=True)
    try:
        row = con.execute("select last_build_invocation_id, tables, source_database from publication").fetchone()
    finally:
        con.close()
    newest = built.query("select invocation_id from main.build_log order by started_at desc limit 1")[0]
    assert row == (newest["invocation_id"], ",".join(publication.tables), str(built.db_path))


def test_a_reader_keeps_its_copy_while_the_next_publication_replaces_it(built, tmp_path):
    out = tmp_path / "marts.duckdb"
    publish(built.db_path, built.dir, out=out)
    old_reader = duckdb.connect(str(out), read_only=True)
    try:
        before = old_reader.execute("select count(*) from fct_invoices").fetchone()[0]
        built.query("create table main.extra_probe as select 1 as x")  # not a mart: not published
        publication = publish(built.db_path, built.dir, out=out, include_events=True)
        assert "fct_event_outcomes" in publication.tables
        # the open reader still reads the copy it opened; a new reader sees the new one, with the events
        assert old_reader.execute("select count(*) from fct_invoices").fetchone()[0] == before
        assert "fct_event_outcomes" not in {r[0] for r in old_reader.execute("show tables").fetchall()}
    finally:
        old_reader.close()
    seen = read_in_other_process(out)
    assert seen["fct_event_outcomes"] == source_counts(built, ["fct_event_outcomes"])["fct_event_outcomes"] > 0
    assert "extra_probe" not in seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marts.duckdb"]  # no temporary file left


def test_a_failed_publication_leaves_the_previous_copy_whole(built, tmp_path, monkeypatch):
    out = tmp_path / "marts.duckdb"
    publish(built.db_path, built.dir, out=out)
    before = read_in_other_process(out)
    # a mart the warehouse says exists but cannot be copied: the copy fails half-way through the tables
    monkeypatch.setattr(publish_mod, "mart_names", lambda *a, **k: ["fct_invoices", "fct_vanished"])
    monkeypatch.setattr(publish_mod, "has_table", lambda con, schema, name: True)
    with pytest.raises(Exception, match="fct_vanished"):
        publish(built.db_path, built.dir, out=out)
    assert read_in_other_process(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marts.duckdb"]


def test_publishing_over_the_warehouse_or_through_a_link_is_refused(built, tmp_path):
    with pytest.raises(BillingError, match="is the database itself"):
        publish(built.db_path, built.dir, out=built.db_path)
    link = tmp_path / "link.duckdb"
    link.symlink_to(tmp_path / "elsewhere.duckdb")
    with pytest.raises(BillingError, match="symbolic link"):
        publish(built.db_path, built.dir, out=link)


def test_billing_publish_command(built, tmp_path):
    from click.testing import CliRunner

    from billing_cli.cli import main

    out = tmp_path / "bi.duckdb"
    args = ["--project-dir", str(built.dir), "--db", str(built.db_path), "publish", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Published {len(publish_mod.mart_names(built.dir))} marts to {out}"
    assert read_in_other_process(out)["fct_invoices"] == source_counts(built, ["fct_invoices"])["fct_invoices"]


def test_the_invoice_tables_are_batch_updated_only_from_this_databases_copy_by_the_same_code(built, tmp_path):
    """fct_invoices and fct_invoice_line_items keep a final invoice's rows while its version is current
    (DECISIONLOG D87); the copy does too when it was published from this database with the same code
    fingerprint, else it copies them whole."""
    out = tmp_path / "marts.duckdb"

    warehouse = warehouse_rows(built)
    assert all(warehouse.values())
    assert publish(built.db_path, built.dir, out=out).invoices == "copy"  # no copy yet
    assert publish(built.db_path, built.dir, out=out).invoices == "batch"
    assert published_rows(out) == warehouse
    for column, value in (("source_database", str(tmp_path / "another.duckdb")), ("fct_invoices_code_version", "x")):
        con = duckdb.connect(str(out))
        try:
            con.execute(f"update publication set {column} = ?", [value])
        finally:
            con.close()
        assert publish(built.db_path, built.dir, out=out).invoices == "copy", column
        assert published_rows(out) == warehouse
        assert publish(built.db_path, built.dir, out=out).invoices == "batch"


TABLES = ("fct_invoices", "fct_invoice_line_items")


def published_rows(out) -> dict[str, list[str]]:
    """The invoice tables (TABLES) of the copy at `out`, each as its sorted rows."""
    con = duckdb.connect(str(out), read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in TABLES}
    finally:
        con.close()


def warehouse_rows(p) -> dict[str, list[str]]:
    """The same tables in the warehouse."""
    return {t: sorted(repr(tuple(r.values())) for r in p.query(f"select * from main.{t}")) for t in TABLES}


def test_the_copy_vacuums_the_rows_its_updates_deleted_once_they_are_a_share_of_a_table(built, tmp_path, monkeypatch):
    """DECISIONLOG D97: a batch update of the copy deletes the drafts' rows and inserts them again; the
    copy's checkpoint leaves the deleted rows in place (no vacuum, which rewrites their row groups)
    until, in the copy a publication starts from, a table holds more deleted rows than
    DELETED_SHARE_VACUUMED of its rows. What readers see is the warehouse's either way."""
    out = tmp_path / "marts.duckdb"

    def sizes() -> dict[str, tuple[int, int]]:
        """table -> (rows stored, deleted ones included; rows)"""
        con = duckdb.connect(str(out), read_only=True)
        try:
            return {
                t: con.execute(
                    f"select estimated_size, (select count(*) from {t}) from duckdb_tables() where table_name = ?", [t]
                ).fetchone()
                for t in TABLES
            }
        finally:
            con.close()

    warehouse = warehouse_rows(built)
    drafts = built.query("select count(*) as n from main.fct_invoices where invoice_version is null")[0]["n"]
    assert drafts > 0
    assert publish(built.db_path, built.dir, out=out).invoices == "copy"
    assert all(stored == rows for stored, rows in sizes().values())
    monkeypatch.setattr(publish_mod, "DELETED_SHARE_VACUUMED", 100.0)
    # a process that holds the warehouse open (as `billing build` does) publishes through its instance,
    # whose own checkpoints still vacuum afterwards
    warehouse_instance = duckdb.connect(str(built.db_path))
    try:
        default = duckdb.connect().execute("select current_setting('max_vacuum_tasks')").fetchone()[0]  # DuckDB's
        assert warehouse_instance.execute("select current_setting('max_vacuum_tasks')").fetchone()[0] == default
        for _ in range(2):  # each batch update deletes the drafts' rows, and they stay: not vacuumed
            assert publish(built.db_path, built.dir, out=out).invoices == "batch"
            stored, rows = sizes()["fct_invoices"]
            assert stored - rows >= drafts, (stored, rows)
            assert published_rows(out) == warehouse
            assert warehouse_instance.execute("select current_setting('max_vacuum_tasks')").fetchone()[0] == default
    finally:
        warehouse_instance.close()
    monkeypatch.setattr(publish_mod, "DELETED_SHARE_VACUUMED", 0.0)  # any deleted row is too many
    assert publish(built.db_path, built.dir, out=out).invoices == "batch"
    assert {t: stored == rows for t, (stored, rows) in sizes().items()} == dict.fromkeys(TABLES, True)
    assert published_rows(out) == warehouse


def test_a_copy_taken_while_the_build_ran_is_published_from_only_while_it_is_the_previous_copy(
    built, tmp_path, monkeypatch
):
    """DECISIONLOG D98: `billing build` file-copies the previous copy while dbt runs; the publication
    batch-updates that file when the copy at the target is still the one it copied (same inode, size,
    modification time), else copies the target again. No temporary file is left either way."""
    out = tmp_path / "marts.duckdb"
    copies = []
    real_copyfile = publish_mod.shutil.copyfile
    monkeypatch.setattr(publish_mod.shutil, "copyfile", lambda a, b: copies.append(a) or real_copyfile(a, b))
    warehouse = warehouse_rows(built)

    nothing = publish_mod.PreviousCopy.start(out)  # no copy yet: nothing to start from
    assert nothing.path is None
    assert publish(built.db_path, built.dir, out=out, previous=nothing).invoices == "copy"
    assert copies == []

    ahead = publish_mod.PreviousCopy.start(out)
    assert publish(built.db_path, built.dir, out=out, previous=ahead).invoices == "batch"
    assert copies == []  # the thread's copy, taken: the publication did not copy
    assert published_rows(out) == warehouse

    for change in ("replaced", "written"):
        stale = publish_mod.PreviousCopy.start(out)
        stale._thread.join()
        if change == "replaced":  # by another publication
            publish(built.db_path, built.dir, out=out)
        else:
            con = duckdb.connect(str(out))
            try:
                con.execute("create table probe as select 1 as x")
            finally:
                con.close()
        copies.clear()
        assert publish(built.db_path, built.dir, out=out, previous=stale).invoices == "batch"
        assert copies == [out], change  # copied again: the file changed after the thread copied it
        assert published_rows(out) == warehouse

    discarded = publish_mod.PreviousCopy.start(out)
    discarded.discard()  # a failed or interrupted build, the thread perhaps still copying
    assert discarded.path is None
    discarded._thread.join()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marts.duckdb"]


def test_the_previous_copy_is_copied_by_reads_and_writes_where_sendfile_cannot(tmp_path, monkeypatch):
    source = tmp_path / "copy.duckdb"
    source.write_bytes(bytes(range(256)) * 5000)
    calls = []

    def partial_sendfile(out_fd, in_fd, offset, count):
        if calls:
            raise OSError(22, "Invalid argument")
        calls.append(count)
        return os.write(out_fd, os.pread(in_fd, 1000, offset))  # the first 1,000 bytes

    monkeypatch.setattr(publish_mod.os, "sendfile", partial_sendfile)
    copy = publish_mod.PreviousCopy.start(source)
    path = copy.take(source)
    assert calls == [source.stat().st_size]  # one chunk sent, then the rest read and written
    assert path is not None and path.read_bytes() == source.read_bytes()
