"""`billing compile`: billable_metrics.yml and alerts.yml into the generated dbt models."""

from __future__ import annotations

from pathlib import Path

from . import alerts as alerts_mod
from . import metrics as metrics_mod


def compile_project(
    project_dir: Path, metrics_file: Path | None = None, alerts_file: Path | None = None
) -> tuple[metrics_mod.CompiledProject, int, int]:
    """The generated files of the project; returns (files, number of metrics, number of alerts)."""
    definitions = metrics_mod.load_metrics(metrics_file or project_dir / "billable_metrics.yml")
    alerts = alerts_mod.load_alerts(
        alerts_file or project_dir / "alerts.yml", {m.name: m.aggregation for m in definitions}
    )
    compiled = metrics_mod.compile_metrics(definitions)
    compiled.files.update(alerts_mod.compiled_files(alerts))
    return compiled, len(definitions), len(alerts)
