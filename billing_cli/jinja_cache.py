"""Jinja's compiled template code, kept between processes (as Python keeps bytecode in __pycache__).

dbt renders every model, test and macro from a Jinja template, and Jinja turns each template's source
into Python code (parse, generate, compile) the first time a process meets it: about 1,400 templates
and an eighth of the CPU of a warm `billing build` of the demo, paid again by every build, `check`
and `run-operation`. The code depends only on the source, its name and file name, Jinja's and
Python's versions and the environment's configuration (its class, extensions, delimiters, filters
and tests: `_environment_signature`), never on the values rendered, so it is looked up by a hash of
those: first in this process's memory, then in a folder of marshalled code objects, else compiled and
written there. A template is still made anew each time from the code, with that render's globals.

The folder is `$BILLING_CACHE_DIR`, else `$XDG_CACHE_HOME/billing` (`~/.cache/billing`), with one
subfolder per Jinja and Python version; `BILLING_CACHE_DIR=off` keeps the code in memory only.
Entries are written whole (a temporary file renamed) and read defensively (an unreadable one is
compiled again); those unused for 30 days are removed, at most once a day.

    >>> from jinja2 import Environment
    >>> install()
    >>> Environment().from_string("{{ 1 + 1 }}").render()
    '2'
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
import time
from pathlib import Path
from types import CodeType

PRUNE_AFTER_SECONDS = 30 * 24 * 3600
PRUNE_EVERY_SECONDS = 24 * 3600

_memory: dict[str, CodeType] = {}
_state: dict[str, object] = {"installed": False, "directory": None}


def cache_root() -> Path | None:
    """The folder of billing's caches between processes (None: `BILLING_CACHE_DIR=off`, memory only)."""
    setting = os.environ.get("BILLING_CACHE_DIR", "")
    if setting.lower() == "off":
        return None
    return Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "billing"


def cache_dir() -> Path | None:
    """Where compiled code is kept (None: memory only)."""
    import jinja2

    base = cache_root()
    return None if base is None else base / f"jinja-{jinja2.__version__}-{sys.implementation.cache_tag}"


def _environment_signature(env) -> tuple:
    """Everything of an environment that Jinja's code generation reads."""
    autoescape = env.autoescape if isinstance(env.autoescape, bool) else _qualname(env.autoescape)
    return (
        _qualname(type(env)),
        _qualname(env.code_generator_class),
        tuple(sorted(env.extensions)),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.optimized,
        env.is_async,
        autoescape,
        None if env.finalize is None else _qualname(env.finalize),
        tuple(sorted(env.filters)),
        tuple(sorted(env.tests)),
    )


def _qualname(obj) -> str:
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"


def _key(env, source: str, name, filename, defer_init: bool) -> str:
    text = repr((_environment_signature(env), source, name, filename, defer_init))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _load(directory: Path | None, key: str) -> CodeType | None:
    if directory is None:
        return None
    path = directory / key
    try:
        code = marshal.loads(path.read_bytes())
        if time.time() - path.stat().st_mtime > PRUNE_EVERY_SECONDS:
            os.utime(path)  # in use: not pruned
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _store(directory: Path | None, key: str, code: CodeType) -> None:
    if directory is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(marshal.dumps(code))
            os.replace(temporary, directory / key)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only or full disk: the code stays in memory


def prune(directory: Path | None, now: float | None = None) -> int:
    """Remove entries unused for PRUNE_AFTER_SECONDS, at most once per PRUNE_EVERY_SECONDS (a stamp
    file says when it last ran); returns how many were removed."""
    if directory is None or not directory.is_dir():
        return 0
    now = time.time() if now is None else now
    stamp = directory / ".pruned"
    try:
        if stamp.exists() and now - stamp.stat().st_mtime < PRUNE_EVERY_SECONDS:
            return 0
        stamp.touch()
        os.utime(stamp, (now, now))
        removed = 0
        for entry in os.scandir(directory):
            if entry.name.startswith(".") and not entry.name.startswith(".tmp-"):
                continue
            if now - entry.stat().st_mtime > PRUNE_AFTER_SECONDS:
                os.unlink(entry.path)
                removed += 1
        return removed
    except OSError:
        return 0


def install() -> None:
    """Make every Jinja environment of this process compile through the cache (once per process)."""
    if _state["installed"]:
        return
    from jinja2 import Environment

    compile_ = Environment.compile
    directory = cache_dir()
    _state["directory"] = directory

    def compile_cached(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, str):
            return compile_(self, source, name, filename, raw, defer_init)
        key = _key(self, source, name, filename, defer_init)
        code = _memory.get(key)
        if code is None:
            code = _load(directory, key)
            if code is None:
                code = compile_(self, source, name, filename, raw, defer_init)
                _store(directory, key, code)
            _memory[key] = code
        return code

    compile_cached.__wrapped__ = compile_
    Environment.compile = compile_cached
    _state["installed"] = True
    prune(directory)
