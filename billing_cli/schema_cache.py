"""dbt's JSON schemas of its configuration classes, kept between processes (like jinja_cache's code).

dbt checks dbt_project.yml, profiles.yml, packages.yml and selectors against the JSON schema of the
dataclass that reads each (`dbtClassMixin.validate`), and builds that schema from the class with
mashumaro the first time a process needs it: about 24 schemas at the start of every `billing` command
that runs dbt, before any SQL (the parse of the 10 M benchmark's project: 2.01 s, and 1.85 s with
this module; means of six alternated runs). A schema depends only on its class, that is on the
installed packages that define it, so it is kept as JSON in a folder per version of those packages
(under `BILLING_CACHE_DIR`, like jinja_cache; `off` keeps it in memory), found by the class's module
and name, and built and written (a temporary file renamed) when absent or unreadable. The check
itself still runs on every file, as dbt ships it.

    >>> install()
    >>> from dbt.contracts.project import Project
    >>> Project.json_schema()["type"]
    'object'
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from . import jinja_cache

# the distributions whose code defines the classes and how their schemas are built
DISTRIBUTIONS = ("dbt-core", "dbt-common", "dbt-adapters", "dbt-duckdb", "dbt-spark", "mashumaro")
_state: dict[str, object] = {"installed": False}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def versions(names: tuple[str, ...] = DISTRIBUTIONS) -> str:
    """The installed versions of these distributions, with Python's, as one name (a cache's key)."""
    return "-".join(f"{name}{_version(name)}" for name in names) + f"-{sys.implementation.cache_tag}"


def cache_dir() -> Path | None:
    """Where the schemas are kept (None: memory only)."""
    base = jinja_cache.cache_root()
    return None if base is None else base / f"jsonschema-{versions()}"


def _load(path: Path) -> dict | None:
    try:
        schema = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return schema if isinstance(schema, dict) else None


def _store(path: Path, schema: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(schema, fh)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only or full disk: the schema stays in memory


def install() -> None:
    """Make `dbtClassMixin.json_schema` read and write the folder (once per process). Classes that
    define their own (dbt's versioned artifacts) keep theirs."""
    if _state["installed"]:
        return
    from dbt_common.dataclass_schema import dbtClassMixin

    build = dbtClassMixin.__dict__["json_schema"].__func__.__wrapped__  # under dbt's lru_cache
    directory = cache_dir()

    @classmethod
    @functools.lru_cache
    def json_schema(cls):
        path = None if directory is None else directory / f"{cls.__module__}.{cls.__qualname__}.json"
        schema = None if path is None else _load(path)
        if schema is None:
            schema = build(cls)
            if path is not None:
                _store(path, schema)
        return schema

    dbtClassMixin.json_schema = json_schema
    _state["installed"] = True
