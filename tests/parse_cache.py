"""One dbt parse per test process, not one per test project.

Every test project is a copy of the same models and macros with its own seeds, metrics and DuckDB
file, and parsing one from scratch costs seconds. So each in-process parse starts from the
partial-parse file (target/billing/partial_parse.msgpack, build.PARSE_TARGET) of the last project parsed in this process for
the same target: dbt re-parses only the files whose contents differ (the seeds, the compiled
metrics, a file a test edits) and falls back to a full parse whenever its own checks say so (dbt
version, vars, dbt_project.yml, env vars it reads, the profile).

Two things make that safe:
- the profile check: dbt hashes the connection's values, so every project's own DuckDB path would
  force a full parse. The path is not visible to parsing (the database name, the file's stem, is
  `billing` for every project), so the profile is hashed without it (`hash_profile_without_db_path`,
  also in tests/killed_build.py's child process, whose parse starts from the same file);
- the seeds' folder: dbt-duckdb loads a seed's CSV from its node's root_path, which a partial parse
  keeps from the project that first parsed an unchanged seed. DbtProject.parse points every seed at
  its own project (billing_cli/build.py, `_seeds_load_from_here`); tests/test_build_lifecycle.py
  proves a seed edited after a parse started from another project's file is the one built.
"""

from __future__ import annotations

from pathlib import Path

from billing_cli.build import PARSE_TARGET, DbtProject

_LAST: dict[str, bytes] = {}  # profile target -> the last parse's partial_parse.msgpack
_parse_from_scratch = DbtProject.parse


def hash_profile_without_db_path() -> None:
    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader

    if getattr(ManifestLoader, "_billing_tests_patched", False):
        return
    build_state_check = ManifestLoader.build_manifest_state_check

    def state_check(self):
        check = build_state_check(self)
        keys = sorted((k, "<path>" if k == "path" else v) for k, v in self.root_project.credentials.connection_info())
        check.profile_hash = FileHash.from_contents(repr(keys))
        return check

    ManifestLoader.build_manifest_state_check = state_check
    ManifestLoader._billing_tests_patched = True


def start_from_last(project_dir: Path, target: str = "duckdb") -> None:
    """Put the partial-parse file of the last project parsed in this process for `target` in
    project_dir's target/ folder (also over a file another target's parse left there): dbt's next
    parse of project_dir, in this process or a child, starts from it."""
    if target in _LAST:
        saved = Path(project_dir) / PARSE_TARGET / "partial_parse.msgpack"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(_LAST[target])


def parse_from_last(self: DbtProject):
    """DbtProject.parse, started from the partial-parse file of the last project parsed in this
    process for the same target."""
    if self._manifest is not None:
        return self._manifest
    hash_profile_without_db_path()
    target = self.target or "duckdb"
    start_from_last(self.project_dir, target)
    manifest = _parse_from_scratch(self)
    saved = self.project_dir / PARSE_TARGET / "partial_parse.msgpack"
    if saved.exists():
        _LAST[target] = saved.read_bytes()
    return manifest


def install() -> None:
    DbtProject.parse = parse_from_last
