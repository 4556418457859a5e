"""Running the dbt project in-process.

dbt costs seconds to import and parse; `DbtProject` parses once and reuses the manifest for every
later command in the same process (the CLI's `demo`, the tests), which builds a small project in
well under a second.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .db import connect
from .errors import BillingError

FAILED_STATUSES = {"error", "fail", "runtime error"}
# agate's warning, once per load, when a seed's header lacks a column its column_types name: the
# seed's own header check then fails naming the file and the column (macros/seed_columns.sql)
AGATE_MISSING_COLUMN = ".*does not match the name of any column"
MAX_FAILING_ROWS = 50


@contextlib.contextmanager
def _cycle_collection_after():
    """Python's cyclic garbage collector paused while dbt runs, and run once on what it made.

    A build makes about two Jinja contexts per node, each holding a MacroGenerator of every macro
    (about 690) that points back at its context: 190,000 objects in cycles per build of this project.
    Their allocations trigger about 500 collections during a build, one of them a full pass over the
    parsed manifest: 0.9 s of a warm build's 6.5 CPU-s. Paused, a build holds about 50 MB more until
    one collection of the objects it made (the youngest generation) at its end, 0.3-0.45 s, which
    frees the same cycles (warm builds alternated in one process: 6.64 CPU-s on average, 6.21 paused).

        with _cycle_collection_after():
            dbtRunner(manifest=manifest).invoke(["build"])
    """
    if not gc.isenabled():  # a caller that manages collection itself
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if _exits_after_command:
            gc.freeze()  # the process ends soon: its cycles are freed by the exit, not collected
        else:
            gc.collect(0)
        gc.enable()


_exits_after_command = False


def exits_after_command() -> None:
    """Tell this module the process ends after one command (the `billing` console script): a
    build's cycles are then frozen rather than collected (0.3 s), as nothing would reuse the memory.
    Tests and other callers that run many builds in one process keep the collection."""
    global _exits_after_command
    _exits_after_command = True


@dataclass
class BuildResult:
    success: bool
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # warn-severity tests that returned rows, with their rows
    invocation_id: str | None = None  # dbt's invocation id: what the build stamped on the rows it wrote

    def describe(self) -> str:
        summary = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        details = self.warnings + ([] if self.success else self.problems)
        return "\n".join([summary, *details])


def _is_ephemeral(msg) -> bool:
    """Whether a node event is about an ephemeral model (a CTE of the models that read it)."""
    return getattr(msg.data.node_info, "materialized", None) == "ephemeral"


class Progress:
    """A dbt event callback printing `n/m status name (elapsed)` as each node finishes: n of the m
    nodes dbt announced (LogStartLine's total), seconds since the build started. In place (one
    line rewritten) on a terminal, one line per node otherwise."""

    events = frozenset({"LogStartLine", "NodeFinished"})  # what it reads (dbt_speedups drops the rest unbuilt)

    def __init__(self, write: Callable[[str], None], in_place: bool = False):
        self.write, self.in_place = write, in_place
        self.started = time.monotonic()
        self.done = 0
        self.total = 0

    def __call__(self, msg) -> None:
        name = msg.info.name
        if name == "LogStartLine":
            self.total = max(self.total, int(msg.data.total))
        elif name == "NodeFinished" and not _is_ephemeral(msg):
            # dbt announces (LogStartLine) only the nodes it runs, but reports an ephemeral model (a CTE
            # of the models that read it) finished too
            self.done += 1
            node = msg.data.node_info
            elapsed = time.monotonic() - self.started
            line = f"{self.done}/{self.total or '?'} {node.node_status} {node.node_name} ({elapsed:.1f} s)"
            self.write(f"\r\x1b[K{line}" if self.in_place else line + "\n")

    def close(self) -> None:
        if self.in_place and self.done:
            self.write("\n")


class EphemeralErrors:
    """A dbt event callback keeping the errors of ephemeral models (a catalog check or a metric's
    model that does not compile): dbt leaves them out of the build's results, where the models that
    read them are only `skipped`, so the cause would not be named."""

    events = frozenset({"NodeFinished"})

    def __init__(self):
        self.problems: list[str] = []

    def __call__(self, msg) -> None:
        if msg.info.name != "NodeFinished" or not _is_ephemeral(msg):
            return
        run_result = msg.data.run_result
        if str(run_result.status).lower() in FAILED_STATUSES:
            self.problems.append(f"- model {msg.data.node_info.node_name}: {(run_result.message or '').strip()}")


# dbt writes its parse state (partial_parse.msgpack, perf_info.json) to this folder under the project
# when `billing` parses, so that plain `dbt` runs with other --vars (which force dbt to parse the
# whole project again) and `billing` runs do not throw each other's parse state away.
PARSE_TARGET = Path("target") / "billing"


def _forget_compiled_ctes(manifest) -> None:
    """Make a manifest that an earlier invocation compiled inject its ephemeral models again.

    dbt compiles a node into the manifest's own node object and marks its ephemeral models' CTEs as
    injected (`extra_ctes_injected`); an invocation given that manifest again (dbtRunner(manifest=...),
    as every command here after the first parse) renders the node anew but then skips the injection,
    so its SQL names a CTE it does not define (`__dbt__cte__int_metric_events__<metric>`), or reuses
    an ephemeral model's SQL rendered by the earlier build. Every node starts as a fresh parse leaves it.
    """
    for node in manifest.nodes.values():
        if getattr(node, "extra_ctes_injected", False):
            node.extra_ctes_injected = False
            node.extra_ctes = []
            node._pre_injected_sql = None
        if getattr(node, "compiled", False):
            node.compiled = False


class DbtProject:
    # dbt global flags added to every invocation of every DbtProject (the test suite adds ones that
    # skip writing logs/dbt.log and the JSON artifacts; a test that reads them sets this back)
    extra_flags: tuple[str, ...] = ()

    def __init__(self, project_dir: Path, db_path: Path, quiet: bool = True, target: str | None = None):
        self.project_dir = Path(project_dir).resolve()
        self.db_path = Path(db_path).resolve()
        self.quiet = quiet
        self.target = target  # a profiles.yml output (default: BILLING_TARGET, else duckdb)
        self._manifest = None

    def _common_args(self) -> list[str]:
        args = ["--project-dir", str(self.project_dir), "--profiles-dir", str(self.project_dir / "profiles")]
        if self.target:
            args += ["--target", self.target]
        return args

    def _invoke(self, args: list[str], callbacks: list | None = None, log_level: str | None = None):
        from dbt.cli.main import dbtRunner  # imported lazily: importing dbt costs seconds

        from . import dbt_speedups, jinja_cache, manifest_cache, schema_cache

        jinja_cache.install()  # Jinja's compiled code from earlier processes (an eighth of a warm build)
        schema_cache.install()  # dbt's JSON schemas of its config files, from earlier processes
        manifest_cache.install()  # dbt's saved manifest as a pickle, not decoded again each process
        dbt_speedups.install()  # work dbt does that nothing reads (a fifth of a warm build)
        os.environ["BILLING_DB"] = str(self.db_path)
        level = log_level or ("warn" if self.quiet else None)
        flags = ["--log-level", level] if level else []
        file_level = os.environ.get("DBT_LOG_LEVEL_FILE")
        if "--log-level-file" not in self.extra_flags and (file_level is None or level == "none"):
            # logs/dbt.log at info: each node's result without each SQL statement (dbt's default is
            # `debug`), unless the user's DBT_LOG_LEVEL_FILE says otherwise (D79); also when the
            # console is silent (`none` would silence the file too)
            flags += ["--log-level-file", file_level or "info"]
        if not sys.stdout.isatty():
            flags.append("--no-use-colors")  # a file or a pipe gets text, not terminal colour codes
        if "--write-json" not in self.extra_flags and "--no-write-json" not in self.extra_flags:
            # dbt's target/manifest.json and run_results.json (a tenth of a warm build) only where asked:
            # `docs generate`, or DBT_WRITE_JSON set by the user; never by the parse (D79)
            wanted = args[0] == "docs" or (args[0] != "parse" and "DBT_WRITE_JSON" in os.environ)
            if not wanted:
                flags.append("--no-write-json")
        if self._manifest is not None:
            _forget_compiled_ctes(self._manifest)
        with warnings.catch_warnings(), _cycle_collection_after():
            warnings.filterwarnings("ignore", message=AGATE_MISSING_COLUMN, category=RuntimeWarning)
            return dbtRunner(manifest=self._manifest, callbacks=callbacks).invoke([*flags, *self.extra_flags, *args])

    def release(self) -> None:
        """Close dbt-duckdb's connection, which holds the DuckDB file lock for the life of the
        process, so that another process (a scheduler's dbt, `billing` in a shell) can open it."""
        if self.target not in (None, "duckdb"):
            return
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        env = DuckDBConnectionManager._ENV
        if env is not None and getattr(env, "conn", None) is not None:
            env.conn.close()
            env.conn = None
        DuckDBConnectionManager.close_all_connections()

    def parse(self):
        if self._manifest is None:
            target_path = str(self.project_dir / PARSE_TARGET)
            result = self._invoke(["parse", *self._common_args(), "--target-path", target_path])
            if not result.success:
                raise BillingError(f"dbt could not parse the project: {result.exception}")
            self._manifest = result.result
            self._seeds_load_from_here()
        return self._manifest

    def _seeds_load_from_here(self) -> None:
        """A seed's CSV is read at build time from its node's root_path (dbt-duckdb's COPY of the
        file), and a partial parse keeps the root_path of the folder that first parsed an unchanged
        seed: a project moved or copied with its target/ folder (or one started from another's
        partial_parse.msgpack) would load the old folder's CSVs. Seeds load from this project."""
        for node in [*self._manifest.nodes.values(), *(n for ns in self._manifest.disabled.values() for n in ns)]:
            if getattr(node, "root_path", None) is not None:
                node.root_path = str(self.project_dir)

    def run_operation(self, macro: str) -> None:
        self.parse()
        result = self._invoke(["run-operation", macro, *self._common_args()])
        if not result.success:
            raise BillingError(f"dbt run-operation {macro} failed: {result.exception}")

    def build(
        self,
        as_of: str | None = None,
        full_refresh: bool = False,
        select: str | None = None,
        extra_vars: dict | None = None,
        exclude: str | None = None,
        progress: Callable | None = None,
        log_level: str | None = None,
    ) -> BuildResult:
        """`dbt build`; `progress` is a dbt event callback (e.g. `Progress`), `log_level` overrides
        the console's (`none` for output that must be only JSON)."""
        self.parse()
        vars_ = dict(extra_vars or {})
        if as_of:
            vars_["billing_as_of"] = as_of
        args = ["build", *self._common_args()]
        if vars_:
            args += ["--vars", json.dumps(vars_)]
        if full_refresh:
            args.append("--full-refresh")
        if select:
            args += ["--select", select]
        if exclude:
            args += ["--exclude", exclude]
        from dbt_common.invocation import get_invocation_id

        ephemeral_errors = EphemeralErrors()
        callbacks = [ephemeral_errors, progress] if progress else [ephemeral_errors]
        result = self._invoke(args, callbacks=callbacks, log_level=log_level)
        built = self._summarise(result)
        built.problems[:0] = ephemeral_errors.problems
        built.invocation_id = get_invocation_id()
        return built

    def _summarise(self, result) -> BuildResult:
        if isinstance(result.exception, KeyboardInterrupt):
            raise KeyboardInterrupt  # Ctrl-C: an interruption (the CLI says so), not "dbt failed:" without a reason
        if result.exception is not None and result.result is None:
            text = str(result.exception)
            if "could not set lock" in text.lower():
                raise BillingError(
                    f"{self.db_path} is locked by another process (a running build or export?); "
                    "wait for it to finish or point BILLING_DB at another file"
                )
            first = next((line for line in text.splitlines() if line.strip()), type(result.exception).__name__)
            return BuildResult(success=False, problems=[f"dbt failed: {first}"])
        counts: dict[str, int] = {}
        problems: list[str] = []
        warnings: list[str] = []
        for node_result in result.result.results:
            status = str(node_result.status).lower()
            counts[status] = counts.get(status, 0) + 1
            if status in FAILED_STATUSES:
                problems.append(self._describe_failure(node_result))
            elif status == "warn":
                warnings.append(self._describe_failure(node_result))
        return BuildResult(success=bool(result.success), counts=counts, problems=problems, warnings=warnings)

    def _describe_failure(self, node_result) -> str:
        node = node_result.node
        # dbt's message, without the macro call stack it appends ("> in macro ...", "> called by ...")
        lines = [line for line in (node_result.message or "").splitlines() if not line.lstrip().startswith("> ")]
        message = "\n".join(line for line in lines if line.strip()).strip()
        text = f"- {node.resource_type} {node.name}: {message}"
        if node.resource_type == "test" and getattr(node, "compiled_code", None):
            rows = self._failing_rows(node.compiled_code)
            if rows:
                text += "\n" + "\n".join(f"    {row}" for row in rows)
        return text

    def _failing_rows(self, sql: str) -> list[str]:
        """The first failing rows of a test, rendered `column=value` (config checks return
        seed, row and problem columns, so this names the seed, the row and what is wrong)."""
        try:
            names, rows, total = (self._spark_rows if self.target == "spark" else self._duckdb_rows)(sql)
        except Exception:  # noqa: BLE001 - best effort: the dbt message is already shown
            return []
        shown = [", ".join(f"{n}={v}" for n, v in zip(names, row, strict=True)) for row in rows[:MAX_FAILING_ROWS]]
        if total > len(shown):
            shown.append(f"... and {total - len(shown)} more")
        return shown

    def _duckdb_rows(self, sql: str):
        con = connect(self.db_path)
        try:
            cursor = con.execute(f"select * from ({sql}) failing limit {MAX_FAILING_ROWS + 1}")
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            total = con.execute(f"select count(*) from ({sql}) failing").fetchone()[0]
        finally:
            con.close()
        return names, rows, total

    def _spark_rows(self, sql: str):
        from pyspark.sql import SparkSession  # the session dbt-spark's session method started

        spark = SparkSession.builder.getOrCreate()
        frame = spark.sql(f"select * from ({sql}) failing")
        return frame.columns, [tuple(r) for r in frame.limit(MAX_FAILING_ROWS + 1).collect()], frame.count()
