"""sqlfluff over the project's SQL, skipping each file that already passed exactly as it is now.

`make lint` runs this. sqlfluff has no cache of its own and costs about 1.7 CPU-s per file here (its
layout rules, then the dbt templater's parse of the project): three minutes for the whole project,
beside the tests on the same two cores. `.sqlfluff-passed` (committed) lists one key per file that
passed, so a clean clone lints only what changed since the last `make lint` whose result was recorded.

A file's key hashes its path and text with everything else that decides what sqlfluff reports for it:
the versions of sqlfluff, its dbt templater, sqlfluffrs, dbt-core and dbt-duckdb; `.sqlfluff`,
`.sqlfluffignore`, `dbt_project.yml`, the profiles; every macro; and every YAML file under models/ and
tests/dbt/ (configs, which can change what a model renders to). Changing any of those relints every
file. Nothing else a model's rendering reads: its refs render as names (`"db"."main"."int_x"`), and
a ref to a model that is gone fails the build in the tests. A file's key is recorded only after a run
in which sqlfluff passed it; one that fails is linted again on the next run.

    python scripts/lint_sql.py --processes 2            # lint what changed, record what passed
    python scripts/lint_sql.py --all                    # lint everything (the cache is rewritten)
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pathspec

ROOT = Path(__file__).resolve().parent.parent
PASSED = ROOT / ".sqlfluff-passed"
LINTED = ("models", "tests/dbt")
PACKAGES = ("sqlfluff", "sqlfluff-templater-dbt", "sqlfluffrs", "dbt-core", "dbt-duckdb")
SETTINGS = (".sqlfluff", ".sqlfluffignore", "dbt_project.yml", "profiles/profiles.yml")


def sql_files() -> list[str]:
    """The .sql files under LINTED that .sqlfluffignore does not exclude, as paths from ROOT.

    >>> "models/marts/fct_invoices.sql" in sql_files()
    True
    """
    ignore = pathspec.PathSpec.from_lines("gitwildmatch", (ROOT / ".sqlfluffignore").read_text().splitlines())
    found = (p.relative_to(ROOT).as_posix() for folder in LINTED for p in (ROOT / folder).rglob("*.sql"))
    return sorted(path for path in found if not ignore.match_file(path))


def shared_key() -> str:
    """One hash of everything but the file itself that decides sqlfluff's findings (see above)."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\n".encode())
    inputs = [ROOT / name for name in SETTINGS]
    inputs += sorted((ROOT / "macros").rglob("*"))
    inputs += sorted(p for folder in LINTED for p in (ROOT / folder).rglob("*.yml"))
    for path in inputs:
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_key(shared: str, path: str) -> str:
    """The key of one file: the shared key, its path and its text."""
    return hashlib.sha256(f"{shared}\0{path}\0".encode() + (ROOT / path).read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--all", action="store_true", help="lint every file, whatever passed before")
    args = parser.parse_args()

    shared = shared_key()
    keys = {path: file_key(shared, path) for path in sql_files()}
    passed = set() if args.all or not PASSED.exists() else set(PASSED.read_text().split())
    todo = [path for path, key in keys.items() if key not in passed]
    print(f"sqlfluff: {len(keys) - len(todo)} of {len(keys)} files passed as they are now; linting {len(todo)}")
    if todo:
        sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))  # the one installed beside this Python
        command = [sqlfluff, "lint", *todo, "--processes", str(args.processes), "--disable-progress-bar"]
        result = subprocess.run(command, cwd=ROOT)
        if result.returncode != 0:
            return result.returncode
    # every file passed as it is now: record exactly the current keys (a file removed or changed drops out)
    text = "".join(f"{key}\n" for key in sorted(keys.values()))
    if not PASSED.exists() or PASSED.read_text() != text:
        PASSED.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
