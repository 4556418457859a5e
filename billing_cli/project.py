"""Where the dbt project and the DuckDB file are."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_PROJECT_DIR = Path(__file__).resolve().parent.parent


def find_project_dir(start: Path | None = None) -> Path:
    """BILLING_PROJECT_DIR, else the nearest folder upward from the working directory holding
    dbt_project.yml, else the folder this package was installed from."""
    env = os.environ.get("BILLING_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dbt_project.yml").exists() and (folder / "billable_metrics.yml").exists():
            return folder
    return PACKAGE_PROJECT_DIR


def database_path(project_dir: Path, db: str | os.PathLike | None = None) -> Path:
    """The DuckDB file: the explicit argument, else BILLING_DB, else billing.duckdb in the project.
    Always absolute, and exported as BILLING_DB so that dbt's profile reads the same file."""
    value = db or os.environ.get("BILLING_DB") or (project_dir / "billing.duckdb")
    path = Path(value)
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    os.environ["BILLING_DB"] = str(path)
    return path
