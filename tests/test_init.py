"""`billing init DIR` (issue #18, DECISIONLOG D65): a clean project that compiles and builds as it is,
and in which a user's own metric compiles with no alerts file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import SEED_COLUMNS

from billing_cli.cli import main
from billing_cli.documents import load_issuer

OWN_METRIC = """billable_metrics:
  - name: api_calls
    event_type: api_call
    aggregation: count
"""


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch):
    """The CLI exports BILLING_DB for dbt's profile; keep that from leaking into other tests."""
    monkeypatch.delenv("BILLING_DB", raising=False)
    monkeypatch.delenv("BILLING_PROJECT_DIR", raising=False)


def billing(*args: str, project: Path | None = None):
    prefix = ["--project-dir", str(project), "--db", str(project.parent / "own.duckdb")] if project else []
    return CliRunner().invoke(main, [*prefix, *args])


def test_init_writes_a_clean_project_that_builds(tmp_path):
    project = tmp_path / "my_billing"
    result = billing("init", str(project))
    assert result.exit_code == 0, result.output
    # header-only seeds, no metrics, no alerts, a quickstart
    for name, header in SEED_COLUMNS.items():
        assert (project / "seeds" / f"{name}.csv").read_text() == header + "\n"
    assert yaml.safe_load((project / "billable_metrics.yml").read_text()) == {"billable_metrics": []}
    assert not (project / "alerts.yml").exists()
    assert "billing compile" in (project / "README.md").read_text()
    # an issuer.yml to fill in: every key at its default, so documents read as without one
    assert "issuer.yml" in (project / "README.md").read_text()
    assert load_issuer(project) == load_issuer(tmp_path / "nowhere")
    assert yaml.safe_load((project / "issuer.yml").read_text())["issuer"]["name"] == "Your Company"
    assert not any((project / "models" / "metrics").glob("int_metric_events__*.sql"))

    # the user's own metric compiles: no alerts file names another metric
    (project / "billable_metrics.yml").write_text(OWN_METRIC)
    compiled = billing("compile", project=project)
    assert compiled.exit_code == 0, compiled.output
    assert "1 metric(s), 0 alert(s)" in compiled.output
    assert billing("compile", "--check", project=project).exit_code == 0
    built = billing("build", "--as-of", "2025-04-02T00:00:00Z", project=project)
    assert built.exit_code == 0, built.output
    assert "dbt build succeeded" in built.output


def test_init_refuses_a_folder_with_files_and_an_unknown_example(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    result = billing("init", str(tmp_path))
    assert result.exit_code == 1 and "not an empty folder" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    unknown = billing("init", str(tmp_path / "new"), "--example", "nonesuch")
    assert unknown.exit_code == 1 and "no example 'nonesuch' (examples: autosales)" in unknown.output


def test_init_with_the_example_holds_the_demo(tmp_path):
    project = tmp_path / "demo"
    assert billing("init", str(project), "--example", "autosales").exit_code == 0
    assert (project / "alerts.yml").exists()
    assert (project / "models" / "metrics" / "int_metric_events__emails_generated.sql").exists()
    assert "cus_acme" in (project / "seeds" / "customers.csv").read_text()
