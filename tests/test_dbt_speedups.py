"""billing_cli/dbt_speedups.py: dbt's work that nothing reads is left out, and nothing else changes.

Events: one below every logger's level and read by no callback is dropped before its message is built;
a logger at its level, a callback that reads it, or a callback that does not say what it reads still
gets it, built as dbt builds it. Contexts: a node's Jinja context, built by the flat namespace, names
the same macro under every key as dbt's own one-macro-at-a-time filing (two builds of one model, one
with dbt's functions put back)."""

from __future__ import annotations

import pytest
from dbt.clients.jinja import MacroGenerator
from dbt.context.macros import MacroNamespaceBuilder
from dbt.context.manifest import ManifestContext
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.logger import _log_level_map
from dbt_common.events.types import Note, SystemStdOut
from google.protobuf.json_format import ParseDict

from billing_cli import dbt_speedups


class Logger:
    """A logger of dbt's shape: its level, its filter, the lines it wrote (those at its level or above,
    as dbt's Python logger does)."""

    def __init__(self, level: EventLevel):
        self.level = level
        self.lines: list[str] = []

    def filter(self, msg) -> bool:
        return True

    def write_line(self, msg) -> None:
        if _log_level_map[self.level] <= _log_level_map[EventLevel(msg.info.level)]:
            self.lines.append(msg.info.name)


class Reader:
    """A callback that says it reads Note events only (and records every event it is given)."""

    events = frozenset({"Note"})

    def __init__(self):
        self.names: list[str] = []

    def __call__(self, msg) -> None:
        self.names.append(msg.info.name)


def fire_both(manager: EventManager) -> tuple[Note, SystemStdOut]:
    note, debug = Note(msg="an info event"), SystemStdOut(bmsg="a debug event")
    manager.fire_event(note)
    manager.fire_event(debug)
    return note, debug


def test_events_nobody_reads_are_dropped_before_they_are_built():
    assert dbt_speedups.install()
    manager = EventManager()
    console, reader = Logger(EventLevel.WARN), Reader()
    manager.loggers, manager.callbacks = [console], [reader]
    note, debug = fire_both(manager)
    assert reader.names == ["Note"] and console.lines == []  # the console (at warn) writes neither
    assert "pb_msg" not in debug.__dict__  # dropped unbuilt
    assert note.msg == "an info event"  # the one a callback read was built, as dbt builds it
    assert note.pb_msg == ParseDict({"msg": "an info event"}, type(note.pb_msg)())


@pytest.mark.parametrize(
    "levels, plain_callback, fired, written",
    [
        # a file log at debug writes both, so both are fired
        ([EventLevel.WARN, EventLevel.DEBUG], False, ["Note", "SystemStdOut"], ["Note", "SystemStdOut"]),
        # a log at info: the debug event is read by nobody
        ([EventLevel.INFO], False, ["Note"], ["Note"]),
        # a callback that does not say what it reads gets every event
        ([EventLevel.WARN], True, ["Note", "SystemStdOut"], []),
    ],
)
def test_an_event_that_a_logger_or_callback_reads_is_fired(levels, plain_callback, fired, written):
    dbt_speedups.install()
    manager = EventManager()
    manager.loggers = [Logger(level) for level in levels]
    reader, seen = Reader(), []
    manager.callbacks = [reader, lambda msg: seen.append(msg.info.name)] if plain_callback else [reader]
    fire_both(manager)
    assert reader.names == fired and manager.loggers[-1].lines == written
    assert seen == (fired if plain_callback else [])


def describe(value):
    """A context's value by what it is: a macro by its unique id, a package by its macros."""
    if isinstance(value, MacroGenerator):
        return value.macro.unique_id
    if isinstance(value, dict) and value and all(isinstance(v, MacroGenerator) for v in value.values()):
        return {k: describe(v) for k, v in value.items()}
    return type(value).__name__


def test_a_node_context_names_the_macros_dbt_would(make_project, monkeypatch):
    import dbt.compilation

    dbt_speedups.install()
    p = make_project()
    p.parse()
    made = dbt.compilation.generate_runtime_model_context
    contexts: dict[str, list] = {"flat": [], "stock": []}
    build = ["flat"]

    def recording(node, config, manifest):
        context = made(node, config, manifest)
        if node.name == "stg_contracts":
            contexts[build[0]].append({key: describe(value) for key, value in context.items()})
        return context

    monkeypatch.setattr(dbt.compilation, "generate_runtime_model_context", recording)
    p.build(select="+stg_contracts", data_tests=False)
    with monkeypatch.context() as stock:  # dbt's own filing and copy, for the second build
        stock.setattr(
            MacroNamespaceBuilder, "build_namespace", dbt_speedups.ORIGINALS["MacroNamespaceBuilder.build_namespace"]
        )
        stock.setattr(ManifestContext, "to_dict", dbt_speedups.ORIGINALS["ManifestContext.to_dict"])
        build[0] = "stock"
        p.build(select="+stg_contracts", data_tests=False)
    assert contexts["flat"] and len(contexts["flat"]) == len(contexts["stock"])  # compiling and running it
    for flat, stock_made in zip(contexts["flat"], contexts["stock"], strict=True):
        macros = {v for v in flat.values() if isinstance(v, str) and v.startswith("macro.")}
        assert len(macros) > 500 and any(m.startswith("macro.billing.") for m in macros)
        assert flat == stock_made


def test_the_profile_s_settings_hold_in_every_cursor(tmp_path):
    """dbt-duckdb's cursors see every `settings` entry: the database-wide ones (memory_limit,
    preserve_insertion_order, TimeZone), set once when the database is opened (again when it is
    opened again), and a session-only one (progress_bar_time), set on each cursor. Compared with
    dbt-duckdb's own handle, which sets them all on every cursor. (TimeZone set once with a plain
    `SET` fails here: a new cursor reads the machine's zone.)"""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.environments.local import LocalEnvironment

    assert dbt_speedups.install()
    # a zone no machine defaults to here: a cursor that was not given it reads another
    settings = {"TimeZone": "America/Sao_Paulo", "memory_limit": "1GB", "preserve_insertion_order": "false"}
    settings["progress_bar_time"] = "4321"
    names = ", ".join(f"current_setting('{name}')" for name in settings)

    def seen(handle) -> tuple:
        row = handle.cursor().execute(f"select {names}").fetchall()[0]
        handle.close()
        return row

    def cursors(environment) -> list[tuple]:
        rows = [seen(environment.handle()) for _ in range(3)]
        environment.close()  # as when dbt-duckdb's last handle closes without keep_open
        assert environment.conn is None
        return [*rows, seen(environment.handle())]  # opened again

    ours = cursors(LocalEnvironment(DuckDBCredentials(path=str(tmp_path / "ours.duckdb"), settings=settings)))
    stock = LocalEnvironment(DuckDBCredentials(path=str(tmp_path / "stock.duckdb"), settings=settings))
    stock.handle = dbt_speedups.ORIGINALS["LocalEnvironment.handle"].__get__(stock)
    assert ours == cursors(stock)
    assert set(ours) == {("America/Sao_Paulo", "953.6 MiB", False, 4321)}


def test_compiled_sql_is_written_only_when_it_changed(tmp_path):
    """A node's compiled SQL file is written when absent or different, and left alone (its mtime too)
    when it already holds the same text; dbt's own write_file is the one that writes."""
    from dbt.contracts.graph import nodes

    assert dbt_speedups.install()
    assert nodes.write_file.__wrapped__ is dbt_speedups.ORIGINALS["nodes.write_file"]
    written: list[str] = []

    def write(path, contents=""):
        written.append(contents)
        return dbt_speedups.ORIGINALS["nodes.write_file"](path, contents)

    write_file = dbt_speedups.write_when_changed(write)
    path = tmp_path / "compiled" / "model.sql"
    assert write_file(str(path), "select 1\n")
    stamp = path.stat().st_mtime_ns
    assert write_file(str(path), "select 1\n")
    assert path.stat().st_mtime_ns == stamp
    assert write_file(str(path), "select 2\n")
    assert written == ["select 1\n", "select 2\n"] and path.read_text() == "select 2\n"


@pytest.mark.parametrize(
    "sql",
    [
        "\n\nwith events as (\n    select 1 as x\n),\n\nfinal as (select * from events)\n\nselect * from final",
        "with a as (select 1) select * from a",
        "WITH\ta as (select 'with; x') select * from a",
        "   With a as (select 1)\nselect * from a  -- with",
        "with recursive a as (select 1) select * from a",
        "with -- the first\n  a as (select 1) select * from a",
        "with\n\n  RECURSIVE a as (select 1) select * from a",
        "-- a comment first\nwith a as (select 1) select * from a",
        "/* block */ with a as (select 1) select * from a",
        "select * from x where y = 'with'",
        "with(select 1) select 1",
        "with a as (select 1) select * from a; select 2",
        "\n  select 1 as with_column",
        "WITH GO AS (select 1) select 1",
        "with a as (select " + ", ".join(f"{i} as c{i}" for i in range(3000)) + ") select * from a",
    ],
)
def test_ephemeral_ctes_go_where_dbt_puts_them(sql):
    """The CTE injection without a parse gives dbt's string wherever it applies, and hands the rest
    (comments first, `with recursive`, no leading `with`, a `;`) to dbt's own."""
    from dbt.contracts.graph.nodes import InjectedCTE

    assert dbt_speedups.install()
    stock = dbt_speedups.ORIGINALS["compilation.inject_ctes_into_sql"]
    ctes = [
        InjectedCTE(id="model.billing.e1", sql=" __dbt__cte__e1 as (\nselect 1 as one\n)"),
        InjectedCTE(id="model.billing.e2", sql=" __dbt__cte__e2 as (\nselect 2 as two\n)"),
    ]
    fast = dbt_speedups.inject_ctes_fast(stock)
    assert fast(sql, ctes) == stock(sql, ctes)
    assert fast(sql, []) == stock(sql, []) == sql


def test_the_cursor_settings_do_not_rebuild_the_credentials(tmp_path, monkeypatch):
    """The per-cursor settings go on a copy of the profile's credentials that does not run their
    __post_init__ again: it consumes parts of the profile (each secret's `type`), so a second run
    fails for a profile with secrets (whose creation needs an extension download, so it is simulated)."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.environments.local import LocalEnvironment

    assert dbt_speedups.install()
    credentials = DuckDBCredentials(path=str(tmp_path / "x.duckdb"), settings={"progress_bar_time": "4321"})

    def once_only(self):
        raise AssertionError("DuckDBCredentials.__post_init__ ran again")

    monkeypatch.setattr(DuckDBCredentials, "__post_init__", once_only)
    handle = LocalEnvironment(credentials).handle()
    assert handle.cursor().execute("select current_setting('progress_bar_time')").fetchall() == [(4321,)]
    handle.close()
