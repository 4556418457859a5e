"""alerts.yml: validation with messages naming the alert, the generated model (golden file), and
`billing compile` picking it up. Regenerate the golden file after an intended change with
    UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_alerts_compile.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from billing_cli.alerts import load_alerts, render_alerts_model
from billing_cli.cli import main
from billing_cli.errors import BillingError

GOLDEN = Path(__file__).resolve().parent / "golden"
EXPECTED = GOLDEN / "expected_alerts" / "int_alert_definitions.sql"
METRICS = {"tokens": "sum", "api_calls": "count", "active_users": "sql"}


def test_golden_alert_definitions():
    text = render_alerts_model(load_alerts(GOLDEN / "alerts.yml", METRICS))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        EXPECTED.write_text(text)
    assert text == EXPECTED.read_text()
    # one row per alert and named customer: spend-500 twice, the others once each
    assert text.count("union all") == 5
    assert "cast('1000000' as {{ billing.type_decimal() }}) as threshold" in text


def test_no_alerts_file_means_an_empty_typed_model(tmp_path):
    text = render_alerts_model(load_alerts(tmp_path / "alerts.yml", METRICS))
    assert "where 1 = 0" in text and "union all" not in text


@pytest.mark.parametrize(
    "body, fragments",
    [
        (
            "alerts:\n  - {id: a, type: spend_reached, threshold: 1}",
            ["alert 'a'", "type 'spend_reached' is not one of"],
        ),
        ("alerts:\n  - {id: a, type: spend_threshold_reached}", ["alert 'a'", "'threshold' (a number) is required"]),
        ("alerts:\n  - {id: a, type: spend_threshold_reached, threshold: lots}", ["alert 'a'", "is not a number"]),
        ("alerts:\n  - {id: a, type: spend_threshold_reached, threshold: -1}", ["alert 'a'", "must be a number >= 0"]),
        ("alerts:\n  - {id: a, type: usage_threshold_reached, threshold: 1}", ["alert 'a'", "needs 'billable_metric'"]),
        (
            "alerts:\n  - {id: a, type: usage_threshold_reached, threshold: 1, billable_metric: nope}",
            ["alert 'a'", "billable_metric 'nope' is not defined in billable_metrics.yml"],
        ),
        (
            "alerts:\n  - {id: a, type: usage_threshold_reached, threshold: 1, billable_metric: active_users}",
            ["alert 'a'", "is a SQL metric"],
        ),
        (
            "alerts:\n  - {id: a, type: spend_threshold_reached, threshold: 1, billable_metric: tokens}",
            ["alert 'a'", "applies only to usage_threshold_reached"],
        ),
        (
            "alerts:\n  - {id: a, type: spend_threshold_reached, threshold: 1, customer_ids: []}",
            ["alert 'a'", "customer_ids must be a non-empty list"],
        ),
        (
            'alerts:\n  - {id: a, type: spend_threshold_reached, threshold: 1, customer_ids: ["o\'brien"]}',
            ["alert 'a'", "customer_ids"],
        ),
        (
            "alerts:\n  - {id: a, type: spend_threshold_reached, threshold: 1, colour: red}",
            ["alert 'a'", "unknown key(s) colour"],
        ),
        ("alerts:\n  - {type: spend_threshold_reached, threshold: 1}", ["alerts[0]", "'id' is required"]),
        (
            "alerts:\n  - {id: a, type: spend_threshold_reached, threshold: 1}\n  - {id: a, type: invoice_total_reached, threshold: 2}",
            ["alert 'a' is defined twice"],
        ),
        ("alert:\n  - {id: a}", ["expected only a top-level 'alerts:' list"]),
    ],
)
def test_invalid_alerts_name_the_file_and_alert(tmp_path, body, fragments):
    path = tmp_path / "alerts.yml"
    path.write_text(body)
    with pytest.raises(BillingError) as error:
        load_alerts(path, METRICS)
    assert str(error.value).startswith(str(path))
    for fragment in fragments:
        assert fragment in str(error.value)


def test_compile_writes_and_checks_the_alerts_model(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "dbt_project.yml", project / "dbt_project.yml")
    for name in ("billable_metrics.yml", "alerts.yml"):
        shutil.copy(REPO / "examples" / "autosales" / name, project / name)
    run = lambda *args: CliRunner().invoke(main, ["--project-dir", str(project), *args])  # noqa: E731
    result = run("compile")
    assert result.exit_code == 0, result.output
    assert (
        "5 alert(s) compiled" in result.stdout and "models/alerts/int_alert_definitions.sql (written)" in result.stdout
    )
    generated = (project / "models" / "alerts" / "int_alert_definitions.sql").read_text()
    assert all(f"string_literal('{alert}')" in generated for alert in ("acme-spend-5", "emails-50", "low-commit-50")), (
        generated
    )
    (project / "alerts.yml").write_text("alerts:\n  - {id: x, type: invoice_total_reached, threshold: 1}\n")
    stale = run("compile", "--check")
    assert stale.exit_code == 1 and "models/alerts/int_alert_definitions.sql (out of date)" in stale.stderr
    (project / "alerts.yml").write_text("alerts:\n  - {id: x, type: nonsense, threshold: 1}\n")
    bad = run("compile")
    assert bad.exit_code == 1 and "alerts.yml: alert 'x': type 'nonsense'" in bad.stderr
    assert "Traceback" not in bad.output
