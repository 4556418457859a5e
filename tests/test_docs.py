"""Docs: every mart and each of its columns is described in YAML, the exposures are declared, and
`dbt docs generate` works on a built project (its catalog lists the marts)."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import REPO, BillingTestProject

from billing_cli.build import DbtProject

MARTS = sorted(p.stem for p in (REPO / "models" / "marts").glob("*.sql"))


def documented_models() -> dict[str, dict]:
    models = {}
    for path in (REPO / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            models[model["name"]] = model
    return models


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("docs"))
    p.metrics("billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n")
    p.alerts("alerts:\n  - {id: a, type: usage_threshold_reached, billable_metric: calls, threshold: 1}\n")
    p.build(as_of="2025-02-01T00:00:00Z")
    return p


def test_every_mart_column_is_described(built):
    models = documented_models()
    missing = []
    for mart in MARTS:
        model = models.get(mart)
        if not model or not (model.get("description") or "").strip():
            missing.append(f"{mart} (model)")
            continue
        described = {c["name"] for c in model.get("columns", []) if (c.get("description") or "").strip()}
        columns = [
            r["column_name"]
            for r in built.query(
                "select column_name from information_schema.columns where table_schema = 'main' and table_name = ? "
                "order by ordinal_position",
                [mart],
            )
        ]
        assert columns, f"{mart} was not built"
        missing += [f"{mart}.{c}" for c in columns if c not in described]
    assert not missing, "undocumented: " + ", ".join(missing)


def test_docs_generate_lists_marts_and_exposures(built, monkeypatch):
    monkeypatch.setattr(DbtProject, "extra_flags", ())  # docs generate writes its JSON files
    dbt = built._dbt
    result = dbt._invoke(["docs", "generate", *dbt._common_args()])
    assert result.success, result.exception
    target = built.dir / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    cataloged = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert set(MARTS) <= cataloged
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert len(exposures) >= 2
    depends = {dep.split(".")[-1] for e in exposures.values() for dep in e["depends_on"]["nodes"]}
    assert {"fct_usage_daily", "fct_invoices", "fct_invoice_line_items"} <= depends
    assert (target / "index.html").exists()


SHARED_CONTRACT = REPO.parent / "shared" / "spec" / "DATA_CONTRACT.md"


def test_the_contract_in_docs_is_the_binding_one():
    """docs/DATA_CONTRACT.md is a copy of the team's binding contract (shared/spec, beside the checkout
    where there is one), so that a clone has it: the two must not drift apart."""
    copy = (REPO / "docs" / "DATA_CONTRACT.md").read_text()
    assert copy.startswith("# Billing data contract")
    if not SHARED_CONTRACT.exists():
        pytest.skip(f"no {SHARED_CONTRACT} beside this checkout to compare with")
    assert copy == SHARED_CONTRACT.read_text(), "docs/DATA_CONTRACT.md differs from shared/spec: copy it again"
