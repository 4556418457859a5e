"""Work that dbt 1.11 does in every build and that nothing reads, left out; every build is the same.

Measured on a warm `billing build` of the demo (about 170 nodes), these are about a fifth of its CPU:

- **Events nobody reads.** dbt builds a protobuf message for every event it fires (three per SQL
  statement, more per node) and then offers it to its loggers, which drop what is below their level,
  and to the invocation's callbacks. An event below every logger's level, and of a kind that no
  callback reads, is dropped before that work (`fire_event`), and a debug or info event builds its
  message only when something first reads it (`BaseEvent`), so a dropped one is never built. A
  callback says which events it reads in an `events` attribute (a set of names); one that does not
  say gets every event, so a plain `dbtRunner(callbacks=[f])` loses nothing.
- **The macro namespace, filed one macro at a time.** dbt gives each node's Jinja context every macro
  (about 690) twice a build: `MacroNamespaceBuilder` files them one by one, with a duplicate check
  that a dict keyed by name cannot fail, and `ManifestContext.to_dict` copies the namespace into the
  context key by key, each looked up through five dicts. Here each package is filed whole and the
  copy is one merge in the same order of precedence (the node's package, the root package, packages
  by name, `dbt`, the adapters' macros). Each node still gets its own generator of every macro.
- **The profile's DuckDB settings, once per database.** dbt-duckdb runs every `settings` entry as a
  `SET` on every cursor it hands a node (176 in a micro-batch build: 0.75 s, the SETs waiting on the
  other thread's query). Each setting DuckDB can set for the whole database (`SET GLOBAL`:
  memory_limit, preserve_insertion_order, TimeZone) is set so once, when dbt-duckdb opens the
  database (`database_wide`, which checks that a new cursor then reads what a cursor given dbt-duckdb's
  `SET` reads); the others (session-only ones) on every cursor, as before. So a database-wide setting
  that a model's hook changes stays changed for the rest of the build instead of being set back at
  the next node, and another connection to the same database in the process starts from the
  profile's TimeZone instead of the machine's.
- **Compiled SQL written again unchanged.** dbt writes each node's SQL to target/compiled/ and
  target/run/ (373 files in a micro-batch build, 1.8 ms each on the node's path), and most are what
  the last build wrote (307 of 373: only the event models' literal bounds change). A file that already
  holds exactly that text is left as it is; the others are written as dbt writes them.
- **Ephemeral CTEs put in front by a full SQL parse.** Before a node that reads ephemeral models
  runs, dbt parses its whole compiled SQL with sqlparse only to find the leading `with` after which
  the ephemeral CTEs go (20 nodes of a micro-batch build, 15 ms each). SQL of at most 10,000
  characters that starts with `with` and whitespace (after any whitespace), not `with recursive`, and
  has no `;` or `GO` (sqlparse's statement ends) gets them right after that `with` and its whitespace,
  the string dbt's function returns; any other SQL goes through dbt's parse (5 of the 20 here).
- **Agate type testers.** dbt makes an agate table of every statement's result, each with a new type
  tester whose date types build parsedatetime calendars. A tester keeps no state between tables, and
  agate's tables are immutable: one empty table serves every statement that fetches nothing, and one
  tester each set of text columns.

`install()` applies them once per process, only on the dbt-core minor version they were written
against (`DBT_MINOR`; the settings one also only on dbt-duckdb's, `DBT_DUCKDB_MINOR`); on any other,
dbt runs as it ships. The test suite runs with them too, so the
builds it checks are the builds users get.

    >>> _ = install()
    >>> from dbt_common.events.base_types import EventLevel
    >>> admits_any([], EventLevel.DEBUG)
    False
"""

from __future__ import annotations

import functools
import re

from dbt_common.events.base_types import EventLevel

DBT_MINOR = "1.11."
DBT_DUCKDB_MINOR = "1.10."
# the events that a dbt callback of this module's users reads, by callback (dbt's own one: BehaviorChangeEvent)
_KNOWN_CALLBACKS = {"track_behavior_change_warn": frozenset({"BehaviorChangeEvent"})}
# jinja's print(): written at every log level (dbt sends it to its loggers as an error)
_ALWAYS_FIRED = frozenset({"PrintEvent"})
_QUIET_LEVELS = (EventLevel.DEBUG, EventLevel.INFO)
_installed: list[bool] = []
# what each patch replaced, by "Class.method" (tests compare the two)
ORIGINALS: dict[str, object] = {}


def install() -> bool:
    """Apply them once in this process; False (and nothing changed) on another dbt-core."""
    from dbt.version import __version__

    if _installed:
        return _installed[0]
    applies = __version__.startswith(DBT_MINOR)
    if applies:
        _skip_unread_events()
        _flatten_macro_namespaces()
        _share_agate_type_testers()
        _set_global_settings_once()
        _write_compiled_sql_when_changed()
        _inject_ctes_without_parsing()
    _installed.append(applies)
    return applies


def admits_any(loggers, level) -> bool:
    """Whether any of dbt's loggers writes an event of this level (its Python logger's threshold)."""
    from dbt_common.events.logger import _log_level_map

    wanted = _log_level_map[level]
    return any(_log_level_map[logger.level] <= wanted for logger in loggers)


def _read_by_callbacks(callbacks) -> frozenset[str] | None:
    """The event names the callbacks read; None when one of them may read any event."""
    names: set[str] = set()
    for callback in callbacks:
        events = getattr(callback, "events", None)
        if events is None:
            events = _KNOWN_CALLBACKS.get(getattr(callback, "__name__", ""))
        if events is None:
            return None
        names.update(events)
    return frozenset(names)


def _quiet(event) -> bool:
    """A debug or info event other than jinja's print(): one that may be dropped or built late."""
    return type(event).__name__ not in _ALWAYS_FIRED and type(event).level_tag(event) in _QUIET_LEVELS


def _unread(manager, event) -> bool:
    """A quiet event below every logger's level that no callback of the manager reads."""
    if not _quiet(event) or admits_any(manager.loggers, type(event).level_tag(event)):
        return False
    read = _read_by_callbacks(manager.callbacks)
    return read is not None and type(event).__name__ not in read


def _skip_unread_events() -> None:
    from dbt_common.events.base_types import BaseEvent
    from dbt_common.events.event_manager import EventManager

    fire_event = EventManager.fire_event

    def fire_read_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        if level is None and not force_warn_or_error_handling and _unread(self, e):
            return
        fire_event(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    build = BaseEvent.__init__

    def init(self, *args, **kwargs):
        if not args and _quiet(self):
            object.__setattr__(self, "_unbuilt", kwargs)  # built by message_of, when first read
            return
        build(self, *args, **kwargs)

    def message_of(self):
        fields = self.__dict__
        if "pb_msg" not in fields:
            build(self, **fields.pop("_unbuilt"))
        return fields["pb_msg"]

    def getattr_(self, key):
        if key == "_unbuilt":
            raise AttributeError(key)
        message = message_of(self)
        return message if key == "pb_msg" else getattr(message, key)

    def setattr_(self, key, value):
        if key == "pb_msg":
            object.__setattr__(self, key, value)
        else:
            setattr(message_of(self), key, value)

    ORIGINALS.update({"EventManager.fire_event": fire_event, "BaseEvent.__init__": build})
    ORIGINALS.update({"BaseEvent.__getattr__": BaseEvent.__getattr__, "BaseEvent.__setattr__": BaseEvent.__setattr__})
    EventManager.fire_event = fire_read_event
    BaseEvent.__init__, BaseEvent.__getattr__, BaseEvent.__setattr__ = init, getattr_, setattr_


def _flatten_macro_namespaces() -> None:
    from dbt.clients.jinja import MacroGenerator
    from dbt.context.macros import MacroNamespace, MacroNamespaceBuilder
    from dbt.context.manifest import ManifestContext
    from dbt.include.global_project import PROJECT_NAME

    def build_namespace(self, macros_by_package, ctx):
        for package_name, macros in macros_by_package.items():
            generators = {
                name: MacroGenerator(macro, ctx, self.node, self.thread_ctx) for name, macro in macros.items()
            }
            if package_name in self.internal_package_names:
                self.internal_packages[package_name] = generators
                continue
            self.packages[package_name] = generators
            if package_name == self.search_package:
                self.locals.update(generators)
            elif package_name == self.root_package:
                self.globals.update(generators)
        project_macros: dict = {}
        for package_name in reversed(self.internal_package_names_order):
            project_macros.update(self.internal_packages.get(package_name, {}))
        return MacroNamespace(self.globals, self.locals, project_macros, self.packages)

    to_dict = ManifestContext.to_dict

    def flat_to_dict(self):
        namespace = self.namespace
        if type(namespace) is not MacroNamespace:
            return to_dict(self)
        dct = super(ManifestContext, self).to_dict()
        merged = dict(namespace.global_project_namespace)
        merged[PROJECT_NAME] = namespace.global_project_namespace
        merged.update(namespace.packages)
        merged.update(namespace.global_namespace)
        merged.update(namespace.local_namespace)
        dct.update(merged)
        return dct

    ORIGINALS.update(
        {
            "MacroNamespaceBuilder.build_namespace": MacroNamespaceBuilder.build_namespace,
            "ManifestContext.to_dict": to_dict,
        }
    )
    MacroNamespaceBuilder.build_namespace = build_namespace
    ManifestContext.to_dict = flat_to_dict


def _share_agate_type_testers() -> None:
    from dbt_common.clients import agate_helper

    empty = agate_helper.empty_table()
    agate_helper.empty_table = lambda: empty
    tester = functools.lru_cache(maxsize=256)(agate_helper.build_type_tester)

    def build_type_tester(text_columns, string_null_values=("null", "")):
        nulls = None if string_null_values is None else tuple(string_null_values)
        return tester(frozenset(text_columns), string_null_values=nulls)

    agate_helper.build_type_tester = build_type_tester


def database_wide(conn, settings: dict) -> dict:
    """Set each of `settings` for conn's whole database (`SET GLOBAL`) where DuckDB allows it, and
    return those that a new cursor then has as a cursor given them by dbt-duckdb's `SET` has them
    (read on both). For TimeZone the two differ: a plain `SET` holds for its cursor only, a new
    cursor starting from the machine's zone; `SET GLOBAL` changes that start. Nothing is returned
    when a setting cannot be read (each cursor then sets them all, and fails as dbt-duckdb does).

        >>> import duckdb
        >>> sorted(database_wide(duckdb.connect(), {"TimeZone": "UTC", "progress_bar_time": "4321"}))
        ['TimeZone']
    """
    settable = {}
    setter = conn.cursor()
    for key, value in settings.items():
        try:
            setter.execute(f"SET GLOBAL {key} = '{value}'")
        except Exception:  # duckdb.Error: a session-only setting (or one DuckDB rejects): per cursor
            continue
        settable[key] = value
    if not settable:
        return {}
    names = list(settable)
    read = "select " + ", ".join(f"current_setting('{name}')" for name in names)
    try:
        given = conn.cursor()
        for key, value in settable.items():
            given.execute(f"SET {key} = '{value}'")
        wanted, fresh = given.execute(read).fetchone(), conn.cursor().execute(read).fetchone()
    except Exception:
        return {}
    return {name: settable[name] for name, a, b in zip(names, wanted, fresh, strict=True) if a == b}


def _set_global_settings_once() -> None:
    import copy

    from dbt.adapters.duckdb.__version__ import version
    from dbt.adapters.duckdb.environments.local import DuckDBConnectionWrapper, LocalEnvironment

    if not version.startswith(DBT_DUCKDB_MINOR):
        return
    ORIGINALS["LocalEnvironment.handle"] = LocalEnvironment.handle

    def handle(self):
        # LocalEnvironment.handle, the database's GLOBAL settings set when it is opened
        with self.lock:
            if self.conn is None:
                self.conn = self.initialize_db(self.creds, self._plugins)
                settings = dict(self.creds.settings or {})
                once = database_wide(self.conn, settings)  # (set there)
                rest = {k: v for k, v in settings.items() if k not in once}
                # a copy that skips __init__: DuckDBCredentials.__post_init__ has already consumed
                # parts of the profile (secrets) and would fail on a second run
                cursor_creds = copy.copy(self.creds)
                cursor_creds.settings = rest or None
                self._billing_cursor_creds = cursor_creds
            self.handle_count += 1
            creds = getattr(self, "_billing_cursor_creds", self.creds)  # opened before install(): all
        cursor = self.initialize_cursor(creds, self.conn.cursor(), self._plugins, self._REGISTERED_DF)
        return DuckDBConnectionWrapper(cursor, self)

    LocalEnvironment.handle = handle


def write_when_changed(write):
    """dbt's `write_file`, skipped when the file already holds exactly `contents`."""

    @functools.wraps(write)
    def write_file(path: str, contents: str = "") -> bool:
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                if fh.read() == str(contents):
                    return True
        except (OSError, UnicodeDecodeError):  # absent or unreadable: dbt writes it
            pass
        return write(path, contents)

    return write_file


def _write_compiled_sql_when_changed() -> None:
    from dbt.contracts.graph import nodes

    ORIGINALS["nodes.write_file"] = nodes.write_file
    nodes.write_file = write_when_changed(nodes.write_file)


_LEADING_WITH = re.compile(r"\s*with\s+", re.IGNORECASE)
_RECURSIVE = re.compile(r"recursive\b", re.IGNORECASE)
# sqlparse also ends a statement at GO, and refuses more than 10,000 tokens (MAX_GROUPING_TOKENS),
# which SQL of at most 10,000 characters cannot have: other SQL goes through dbt's parse
_GO = re.compile(r"\bGO\b")
_MAX_FAST_CHARACTERS = 10_000


def inject_ctes_fast(inject):
    """dbt's `inject_ctes_into_sql`, without its sqlparse parse when the SQL starts with a plain `with`:
    the CTEs go after `with` and the whitespace after it (sqlparse's `insert_after` skips it), then
    `, ` and the rest.

        >>> from types import SimpleNamespace as Cte
        >>> inject = inject_ctes_fast(None)
        >>> inject("with a as (select 1) select * from a", [Cte(sql=" __dbt__cte__e as (select 2)")])
        'with  __dbt__cte__e as (select 2), a as (select 1) select * from a'
    """

    @functools.wraps(inject)
    def inject_ctes_into_sql(sql: str, ctes) -> str:
        if ctes and len(sql) <= _MAX_FAST_CHARACTERS and ";" not in sql and not _GO.search(sql):
            leading = _LEADING_WITH.match(sql)
            if leading and not _RECURSIVE.match(sql, leading.end()):
                cut = leading.end()
                return sql[:cut] + ", ".join(cte.sql for cte in ctes) + ", " + sql[cut:]
        return inject(sql, ctes)

    return inject_ctes_into_sql


def _inject_ctes_without_parsing() -> None:
    import dbt.compilation

    ORIGINALS["compilation.inject_ctes_into_sql"] = dbt.compilation.inject_ctes_into_sql
    dbt.compilation.inject_ctes_into_sql = inject_ctes_fast(dbt.compilation.inject_ctes_into_sql)
