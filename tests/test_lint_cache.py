"""scripts/lint_sql.py: which SQL files `make lint` sends to sqlfluff (the ones not passed as they are now)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def lint(tmp_path, monkeypatch):
    """The script's module over a copy of the files its keys read, in tmp_path."""
    for name in (".sqlfluff", ".sqlfluffignore", "dbt_project.yml", "profiles/profiles.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    for folder in ("macros", "models", "tests/dbt"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    spec = importlib.util.spec_from_file_location("lint_sql", REPO / "scripts" / "lint_sql.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    return module


def keys(lint) -> dict[str, str]:
    shared = lint.shared_key()
    return {path: lint.file_key(shared, path) for path in lint.sql_files()}


def test_files_are_the_linted_folders_without_the_ignored_ones(lint):
    files = lint.sql_files()
    assert "models/marts/fct_invoices.sql" in files
    assert any(path.startswith("tests/dbt/") for path in files)
    # generated models (.sqlfluffignore) are not linted
    assert not any(path.startswith(("models/metrics/", "models/alerts/")) for path in files)


def test_an_edit_relints_its_file_and_a_shared_input_relints_every_file(lint, tmp_path):
    before = keys(lint)
    model = tmp_path / "models/marts/fct_invoices.sql"
    model.write_text(model.read_text() + "\n")
    after = keys(lint)
    assert {path for path in before if before[path] != after[path]} == {"models/marts/fct_invoices.sql"}

    for shared_input in ("macros/seed_columns.sql", "models/marts/_marts__models.yml", ".sqlfluff"):
        path = tmp_path / shared_input
        path.write_text(path.read_text() + "\n")
        changed = keys(lint)
        assert all(changed[p] != after[p] for p in after), shared_input
        after = changed
