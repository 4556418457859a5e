"""The dbt unit tests (models/*/_*__unit_tests.yml: given rows -> expected rows, one rule each).

They are disabled unless var billing_unit_tests is true, so no build runs them (not the CLI's, not
the other tests' ~70 builds); this test runs them exactly once, on an empty project whose build
created the tested models' parents (dbt reads their column types from the warehouse):
    dbt test --select test_type:unit --vars '{billing_unit_tests: true}'
"""

from __future__ import annotations

import json
import os

import yaml
from conftest import REPO

UNIT_TEST_VARS = {"billing_unit_tests": True}


def defined_unit_tests() -> set[str]:
    names = set()
    for path in (REPO / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests") or []:
            names.add(test["name"])
    return names


def test_dbt_unit_tests_pass_and_builds_do_not_run_them(make_project):
    from dbt.cli.main import dbtRunner

    p = make_project()
    p.build()
    assert not p._dbt.parse().unit_tests, "a build must not run the unit tests (var billing_unit_tests)"

    p.release()
    os.environ["BILLING_DB"] = str(p.db_path)
    result = dbtRunner().invoke(
        [
            "--log-level",
            "warn",
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(p.dir),
            "--profiles-dir",
            str(p.dir / "profiles"),
            "--vars",
            json.dumps(UNIT_TEST_VARS),
        ]
    )
    assert result.result is not None, result.exception
    statuses = {
        r.node.name: str(r.status).lower() for r in result.result.results if r.node.resource_type == "unit_test"
    }
    expected = defined_unit_tests()
    assert len(expected) >= 8
    assert set(statuses) == expected
    failed = {name: status for name, status in statuses.items() if status != "pass"}
    assert not failed, "\n".join(f"{r.node.name}: {r.message}" for r in result.result.results if r.node.name in failed)
