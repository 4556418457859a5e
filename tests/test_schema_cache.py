"""dbt's JSON schemas kept between processes (billing_cli/schema_cache.py): a later process reads the
schemas an earlier one built, the same as dbt builds them; an unreadable entry is built again and
rewritten; `off` keeps them in memory. No dbt build: each case runs a small Python child that asks for
the schemas of dbt's configuration classes and reports how many it built."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = """
import json
import dbt_common.dataclass_schema as schema_module
built = []
real = schema_module.build_json_schema
def counting(cls, *args, **kwargs):
    built.append(cls.__name__)
    return real(cls, *args, **kwargs)
schema_module.build_json_schema = counting
from billing_cli import schema_cache
schema_cache.install()
from dbt.config.profile import ProfileConfig
from dbt.contracts.project import PackageConfig, Project
from dbt.adapters.duckdb.credentials import DuckDBCredentials
schemas = [c.json_schema() for c in (Project, PackageConfig, ProfileConfig, DuckDBCredentials)]
Project.validate({"name": "x", "version": "1.0.0", "profile": "p"})
try:
    Project.validate({"name": 3})
    rejected = False
except Exception:
    rejected = True
print(json.dumps({"schemas": schemas, "built": len(built), "rejected": rejected}))
"""


def run(cache: str) -> dict:
    env = {**os.environ, "BILLING_CACHE_DIR": cache}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(proc.stdout)


def entries(folder) -> list:
    return sorted(p for p in folder.rglob("*.json"))


def test_a_later_process_reads_the_schemas_dbt_built(tmp_path):
    first = run(str(tmp_path))
    assert first["built"] >= 4 and first["rejected"]
    assert len(entries(tmp_path)) == 4
    second = run(str(tmp_path))
    assert second["built"] == 0 and second["rejected"]
    assert second["schemas"] == first["schemas"]


def test_an_unreadable_entry_is_built_again_and_rewritten(tmp_path):
    first = run(str(tmp_path))
    [project] = [p for p in entries(tmp_path) if p.name == "dbt.contracts.project.Project.json"]
    project.write_text("{not json")
    again = run(str(tmp_path))
    assert again["built"] >= 1 and again["schemas"] == first["schemas"]
    assert json.loads(project.read_text()) == first["schemas"][0]
    assert run(str(tmp_path))["built"] == 0


def test_off_keeps_the_schemas_in_memory_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))
    assert run("off")["built"] >= 4
    assert run("off")["built"] >= 4
    assert entries(tmp_path) == []
