"""The `billing` click group: compile / compile --check, clean one-line errors, and build + export."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, BillingTestProject
from test_build_report import CATALOG as TINY_CATALOG

from billing_cli.build import DbtProject
from billing_cli.cli import main


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch):
    """The CLI exports BILLING_DB for dbt's profile; keep that from leaking into other tests."""
    monkeypatch.delenv("BILLING_DB", raising=False)
    monkeypatch.delenv("BILLING_PROJECT_DIR", raising=False)


@pytest.fixture
def project(tmp_path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(REPO / "dbt_project.yml", folder / "dbt_project.yml")
    shutil.copy(REPO / "examples" / "autosales" / "billable_metrics.yml", folder / "billable_metrics.yml")
    return folder


def billing(project: Path, *args: str):
    return CliRunner().invoke(main, ["--project-dir", str(project), "--db", str(project.parent / "test.duckdb"), *args])


def metric_definitions(project: Path) -> list[dict]:
    return yaml.safe_load((project / "billable_metrics.yml").read_text())["billable_metrics"]


def write_metrics(project: Path, definitions: list[dict]) -> None:
    (project / "billable_metrics.yml").write_text(yaml.safe_dump({"billable_metrics": definitions}, sort_keys=False))


def assert_clean_error(result, *fragments: str) -> None:
    """Exit code 1 and exactly one line `Error: ...` holding the fragments; no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


# -- compile ------------------------------------------------------------------------------------


def test_compile_then_check_passes(project):
    count = len(metric_definitions(project))

    result = billing(project, "compile")

    assert result.exit_code == 0, result.output
    assert f"{count} metric(s), 0 alert(s) compiled;" in result.stdout
    generated = sorted(p.name for p in (project / "models" / "metrics").iterdir())
    assert "int_metric_events.sql" in generated and "_metrics__models.yml" in generated
    assert len([g for g in generated if g.startswith("int_metric_events__")]) == count
    for name in generated:
        assert f"models/metrics/{name} (written)" in result.stdout

    check = billing(project, "compile", "--check")
    assert check.exit_code == 0, check.output
    assert check.stdout.strip() == f"{count} metric(s), 0 alert(s): generated models are up to date."

    again = billing(project, "compile")
    assert again.stdout.strip() == f"{count} metric(s), 0 alert(s) compiled; 0 file(s) changed."


def test_check_before_any_compile_fails(project):
    result = billing(project, "compile", "--check")

    assert result.exit_code == 1
    assert "generated models are stale" in result.stderr
    assert "int_metric_events.sql (missing)" in result.stderr
    assert not (project / "models" / "metrics").exists()  # --check writes nothing


def test_check_names_the_stale_file_after_editing_the_yaml(project):
    assert billing(project, "compile").exit_code == 0
    definitions = metric_definitions(project)
    first = definitions[0]["name"]
    definitions[0]["filters"] = [{"property": "region", "in": ["eu"]}]
    write_metrics(project, definitions)

    result = billing(project, "compile", "--check")

    assert result.exit_code == 1
    assert "run `billing compile`" in result.stderr
    assert f"models/metrics/int_metric_events__{first}.sql (out of date)" in result.stderr
    for other in definitions[1:]:
        assert f"int_metric_events__{other['name']}.sql" not in result.stderr

    fixed = billing(project, "compile")
    assert f"models/metrics/int_metric_events__{first}.sql (rewritten)" in fixed.stdout
    assert billing(project, "compile", "--check").exit_code == 0


def test_removed_metric_is_reported_then_deleted(project):
    assert billing(project, "compile").exit_code == 0
    definitions = metric_definitions(project)
    removed = definitions.pop()["name"]
    write_metrics(project, definitions)
    orphan = project / "models" / "metrics" / f"int_metric_events__{removed}.sql"
    assert orphan.exists()

    result = billing(project, "compile", "--check")

    assert result.exit_code == 1
    assert f"models/metrics/int_metric_events__{removed}.sql (no longer defined)" in result.stderr
    assert orphan.exists()

    compiled = billing(project, "compile")
    assert compiled.exit_code == 0
    assert f"models/metrics/int_metric_events__{removed}.sql (removed)" in compiled.stdout
    assert not orphan.exists()
    assert billing(project, "compile", "--check").exit_code == 0


def test_hand_written_files_in_the_metrics_folder_are_left_alone(project):
    assert billing(project, "compile").exit_code == 0
    own = project / "models" / "metrics" / "my_model.sql"
    own.write_text("select 1 as x\n")

    assert billing(project, "compile", "--check").exit_code == 0
    assert billing(project, "compile").exit_code == 0
    assert own.exists()


def test_invalid_metric_is_a_one_line_error_naming_it(project):
    write_metrics(
        project, [{"name": "tokens", "event_type": "completion", "aggregation": "average", "property": "tokens"}]
    )

    result = billing(project, "compile")

    assert_clean_error(result, "metric 'tokens'", "unknown aggregation 'average'", "billable_metrics.yml")
    assert not (project / "models" / "metrics").exists()


def test_metrics_file_option(project, tmp_path):
    other = tmp_path / "other.yml"
    other.write_text("billable_metrics:\n  - {name: only_one, event_type: e, aggregation: count}\n")

    result = billing(project, "compile", "--metrics-file", str(other))

    assert result.exit_code == 0, result.output
    assert "1 metric(s), 0 alert(s) compiled" in result.stdout
    assert (project / "models" / "metrics" / "int_metric_events__only_one.sql").exists()


# -- ingest and export errors ---------------------------------------------------------------------


def test_ingest_of_a_missing_file_is_a_clean_error(project, tmp_path):
    missing = tmp_path / "nope.jsonl"

    result = billing(project, "ingest", str(missing))

    assert_clean_error(result, f"{missing}: no such file")
    assert not (tmp_path / "test.duckdb").exists()


def test_ingest_reports_the_load(project, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"transaction_id": "t1", "customer_id": "c", "event_type": "e", "timestamp": "2025-01-01"}\noops\n\n'
    )

    result = billing(project, "ingest", "--quiet", str(path))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Loaded 2 rows from 1 file(s)")
    assert "line(s) 2 could not be read" in result.stdout
    assert "1 blank line(s) skipped" in result.stdout
    assert result.stderr == ""  # --quiet: no progress lines


@pytest.mark.parametrize("period", ["2025-13", "abc"])
def test_export_with_a_bad_period_is_a_clean_error(project, tmp_path, period):
    result = billing(project, "export", "invoices", "--period", period, "--out", str(tmp_path))

    assert_clean_error(result, f"period '{period}' is not of the form YYYY-MM")


def test_export_before_any_build_is_a_clean_error(project, tmp_path):
    result = billing(project, "export", "invoices", "--period", "2025-01", "--out", str(tmp_path))

    assert_clean_error(result, "no such database yet")


# -- build and export end to end ----------------------------------------------------------------


def test_build_then_export_through_the_cli(tmp_path, monkeypatch):
    monkeypatch.delenv("BILLING_THREADS")  # the profile's default threads, as a user's build runs
    monkeypatch.setattr(DbtProject, "extra_flags", ())  # dbt's logs and artifacts as a user's build writes them
    for variable in ("DBT_LOG_LEVEL_FILE", "DBT_WRITE_JSON"):
        monkeypatch.delenv(variable, raising=False)
    # 3 calls x FLAT 0.40 = 1.20 for January 2025
    project = BillingTestProject(tmp_path / "tiny")
    project.seeds(**TINY_CATALOG)
    project.metrics("billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n")
    project.ingest(
        [
            {
                "transaction_id": f"t{i}",
                "customer_id": "cus_1",
                "event_type": "call",
                "timestamp": f"2025-01-0{i}T12:00:00Z",
            }
            for i in (1, 2, 3)
        ],
        loaded_at="2025-01-10T00:00:00Z",
    )
    runner = CliRunner()
    common = ["--project-dir", str(project.dir), "--db", str(project.db_path)]

    built = runner.invoke(main, [*common, "build", "--quiet", "--as-of", "2025-02-05T00:00:00Z"])

    assert built.exit_code == 0, built.output
    assert built.stdout.startswith("dbt build succeeded:")
    assert "error" not in built.stdout.lower()
    # logs/dbt.log at info: each node's result, not each SQL statement; no JSON artifacts (D79)
    log = project.dir / "logs" / "dbt.log"
    assert "OK created sql table model main.fct_balances" in log.read_text()
    assert "SQL status:" not in log.read_text()
    assert not (project.dir / "target" / "run_results.json").exists()
    # dbt's own variables give dbt's defaults back
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    monkeypatch.setenv("DBT_WRITE_JSON", "true")
    checked = runner.invoke(main, [*common, "check"])
    assert checked.exit_code == 0, checked.output
    assert "SQL status:" in log.read_text()
    assert (project.dir / "target" / "run_results.json").exists()

    out = tmp_path / "exports"
    out.mkdir()
    exported = runner.invoke(main, [*common, "export", "invoices", "--period", "2025-01", "--out", str(out)])

    assert exported.exit_code == 0, exported.output
    path = out / "invoices_2025-01.csv"
    assert exported.stdout.strip() == f"Wrote 1 invoice(s) with 1 line item(s) to {path}"
    with open(path, newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert (
        row["customer_name"],
        row["status"],
        row["product_id"],
        row["quantity"].split(".")[0],
        row["amount"],
        row["total"],
        row["due_at"],
    ) == ("Tiny Co", "FINALIZED", "prod_calls", "3", "1.20", "1.20", "2025-02-16T00:00:00Z")

    # dbt recorded the build (DECISIONLOG D45): what `invoices void` regenerates at by default
    [log] = project.query("select billing_as_of, is_preview, invoices_stored from main.build_log")
    assert (str(log["billing_as_of"]), log["is_preview"], log["invoices_stored"]) == ("2025-02-05 00:00:00", False, 1)
    # without a recorded build (a database built before D45) the as-of must be given
    project.query("drop table main.build_log")
    invoice_id = row["invoice_id"]
    voided = runner.invoke(main, [*common, "invoices", "void", invoice_id, "--reason", "x"])
    assert_clean_error(voided, "no build is recorded", "pass --as-of")
    assert not project.query("select * from main.invoice_store where record_type = 'void'")


def test_a_database_locked_by_another_process_is_a_one_line_error(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(
            main,
            [
                "--project-dir",
                str(REPO),
                "--db",
                str(db),
                "export",
                "invoices",
                "--period",
                "2025-03",
                "--out",
                str(tmp_path),
            ],
        )
        assert result.exit_code != 0
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "is locked by another process" in lines[0], result.output
        assert "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait()


# -- the console script's exit ------------------------------------------------------------------


def python(code: str, *args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("status", "code", "stderr"), [(0, 0, ""), (3, 3, ""), (None, 0, ""), ("why", 1, "why\n")])
def test_the_console_script_exits_with_its_status_after_the_exit_handlers(status, code, stderr):
    """`billing` ends with os._exit (D80): the status is sys.exit's, the exit handlers run and the
    piped (so buffered) output is flushed first."""
    exited = python(
        "import atexit; from billing_cli.cli import _exit_now\n"
        "atexit.register(lambda: print('handler ran', end=''))\n"
        f"print('buffered', end=' '); _exit_now({status!r})\n"
    )
    assert (exited.returncode, exited.stdout, exited.stderr) == (code, "buffered handler ran", stderr)


def test_the_console_script_waits_for_threads_still_running():
    exited = python(
        "import threading, time; from billing_cli.cli import _exit_now\n"
        "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done'))).start()\n"
        "_exit_now(4)\n"
    )
    assert (exited.returncode, exited.stdout) == (4, "thread done\n")


def test_the_console_script_runs_the_command_and_keeps_its_status(tmp_path):
    """`python -m billing_cli.cli` is the console script's `run`: a usage error stays one line and
    exit status 2, help exits 0."""
    import subprocess
    import sys

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "billing_cli.cli", "--project-dir", str(tmp_path), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = cli("build", "--as-of", "nope")
    assert refused.returncode == 2
    assert refused.stderr.startswith("Error: Invalid value for '--as-of'") and refused.stderr.count("\n") == 1
    helped = cli("--help")
    assert helped.returncode == 0 and "Usage:" in helped.stdout


@pytest.mark.parametrize(("one_shot", "frozen"), [(False, False), (True, True)])
def test_a_one_shot_process_freezes_a_builds_cycles_instead_of_collecting_them(one_shot, frozen):
    exited = python(
        "import gc, sys; from billing_cli import build\n"
        "if sys.argv[1] == 'True': build.exits_after_command()\n"
        "with build._cycle_collection_after():\n"
        "    assert not gc.isenabled(); cycles = [[] for _ in range(1000)]; [c.append(c) for c in cycles]\n"
        "print(gc.get_freeze_count() > 0, gc.isenabled())\n",
        str(one_shot),
    )
    assert exited.stdout == f"{frozen} True\n", exited.stderr


# -- demo ---------------------------------------------------------------------------------------


def test_demo_never_overwrites_the_database_given_with_db(project, tmp_path):
    """`billing --db FILE demo` builds into FILE, so FILE must be new: an existing database (a user's)
    is refused in one line and left as it was."""
    db = tmp_path / "mine.duckdb"
    db.write_bytes(b"not yours to replace")
    result = CliRunner().invoke(
        main, ["--project-dir", str(project), "--db", str(db), "demo", "--out", str(tmp_path / "out")]
    )
    assert_clean_error(result, str(db), "already exists")
    assert db.read_bytes() == b"not yours to replace"
    assert not (tmp_path / "out").exists()
