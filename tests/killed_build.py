"""A `dbt build` killed with SIGKILL at a chosen moment, as a crashed scheduler or machine would leave it.

`build_killed(project_dir, db_path, when, node, as_of)` runs the build in a child process whose dbt
event callback kills that process (SIGKILL: no cleanup, no rollback handler, no flush) the moment
`node` starts (`when="start"`) or has finished and committed (`when="finish"`). `node` is a model
name, or `"store"` for the first model of models/finalized/ that finishes (the invoice store).
The database is then whatever DuckDB recovers from its file and write-ahead log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import parse_cache

_CHILD = textwrap.dedent("""
    import json, os, signal, sys
    from dbt.cli.main import dbtRunner

    project_dir, when, node, vars_ = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    sys.path.insert(0, sys.argv[5])  # tests/: the parse starts from the parent's last partial-parse file
    import parse_cache
    from billing_cli.build import DbtProject

    parse_cache.hash_profile_without_db_path()
    manifest = DbtProject(project_dir, os.environ["BILLING_DB"]).parse()  # its seeds load from project_dir
    wanted = {"start": "NodeStart", "finish": "NodeFinished"}[when]

    def matches(info):
        if node == "store":
            return "/finalized/" in "/" + info.node_path.replace(os.sep, "/") and info.resource_type == "model" \\
                and info.node_name != "alert_state_changes"
        return info.node_name == node

    def callback(event):
        if event.info.name == wanted and matches(event.data.node_info):
            if when == "start" or event.data.run_result.status == "success":
                os.kill(os.getpid(), signal.SIGKILL)

    result = dbtRunner(manifest=manifest, callbacks=[callback]).invoke([
        "--log-level", "warn", "build", "--project-dir", project_dir,
        "--profiles-dir", os.path.join(project_dir, "profiles"), "--vars", vars_])
    sys.exit(0 if result.success else 3)  # not killed: the node never ran
""")


def build_killed(project_dir: Path, db_path: Path, when: str, node: str, as_of: str) -> None:
    """Build in a child process killed at `when` of `node`. The caller's process must not hold the
    DuckDB file (BillingTestProject.release() after an in-process build)."""
    env = {**os.environ, "BILLING_DB": str(Path(db_path).resolve())}
    parse_cache.start_from_last(project_dir)
    tests = str(Path(__file__).resolve().parent)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(project_dir), when, node, json.dumps({"billing_as_of": as_of}), tests],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == -9, (
        f"the build was not killed at {when} of {node}: exit {proc.returncode}\n"
        f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )
