"""Bring your own data (issue #18, DECISIONLOG D65): events and the whole catalog read from tables of
another schema build the same invoices as the seed version.

One story (the AutoSales example: commits, credits, subscriptions, scheduled charges, an upgrade,
aliases, duplicates and bad events), two builds (module fixture): the catalog from seeds and the
events from `billing ingest`'s raw.usage_events, then the same rows in tables of schema `warehouse`
named by vars billing_events_relation and billing_catalog_source.
"""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import pytest
from conftest import REPO, SEED_COLUMNS, BillingTestProject

from billing_cli.db import connect
from billing_cli.demo import generate_events

EXAMPLE = REPO / "examples" / "autosales"
AS_OF = "2025-04-02T12:00:00Z"
EVENTS = "warehouse.app_events"


def read_from_tables(p: BillingTestProject, tables: list[str], events: bool = True) -> None:
    """Point the project's vars at schema `warehouse` (as a user edits dbt_project.yml)."""
    path = p.dir / "dbt_project.yml"
    text = path.read_text()
    if events:
        text, n = re.subn(
            r"billing_events_relation: \{.*\}",
            "billing_events_relation: {schema: warehouse, identifier: app_events}",
            text,
        )
        assert n == 1
    text, n = re.subn(
        r"billing_catalog_source: \{.*\}",
        f"billing_catalog_source: {{schema: warehouse, tables: [{', '.join(tables)}]}}",
        text,
    )
    assert n == 1
    path.write_text(text)


def copy_seeds_to_tables(db_path, names: list[str]) -> None:
    """Each example seed CSV as a table warehouse.<name>, every column text (as the seed loads)."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema if not exists warehouse")
        for name in names:
            con.execute(
                f"create table warehouse.{name} as select * from read_csv(?, all_varchar = true, header = true)",
                [str(EXAMPLE / "seeds" / f"{name}.csv")],
            )
    finally:
        con.close()


# the real time of the build that stored a final invoice: the two builds differ in it, and only in it
WALL_CLOCK = {"stored_at"}


def rows(p: BillingTestProject, table: str, order: str) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in WALL_CLOCK}
        for row in p.query(f"select * from main.{table} order by {order}")
    ]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    metrics = (EXAMPLE / "billable_metrics.yml").read_text()
    events, _, _ = generate_events(datetime(2025, 4, 2))

    seeds = BillingTestProject(tmp_path_factory.mktemp("seeds"))
    for name in SEED_COLUMNS:
        (seeds.dir / "seeds" / f"{name}.csv").write_text((EXAMPLE / "seeds" / f"{name}.csv").read_text())
    seeds.metrics(metrics)
    seeds.ingest(events, loaded_at="2025-04-02T00:00:00Z")
    seeds.build(as_of=AS_OF)

    tables = BillingTestProject(tmp_path_factory.mktemp("tables"))  # header-only seeds, never read
    tables.metrics(metrics)
    read_from_tables(tables, list(SEED_COLUMNS))
    copy_seeds_to_tables(tables.db_path, list(SEED_COLUMNS))
    # the user's own events table: only the contract's six columns, the rows billing ingest landed
    landed = tables.root / "landed.parquet"
    con = connect(seeds.db_path)
    try:
        con.execute(
            "copy (select transaction_id, customer_id, event_type, timestamp, properties, loaded_at "
            f"from raw.usage_events) to '{landed}' (format parquet)"
        )
    finally:
        con.close()
    con = connect(tables.db_path)
    try:
        con.execute(f"create table {EVENTS} as select * from read_parquet('{landed}')")
    finally:
        con.close()
    tables.build(as_of=AS_OF)
    return seeds, tables


def test_tables_build_the_same_invoices_as_seeds(builds):
    seeds, tables = builds
    invoices = rows(seeds, "fct_invoices", "invoice_id")
    assert len(invoices) > 20 and {r["invoice_type"] for r in invoices} == {"USAGE", "SCHEDULED"}
    assert rows(tables, "fct_invoices", "invoice_id") == invoices
    order = "invoice_id, line_type, product_id, starting_at, amount"
    assert rows(tables, "fct_invoice_line_items", order) == rows(seeds, "fct_invoice_line_items", order)


def test_the_events_come_from_the_configured_table(builds):
    seeds, tables = builds
    assert tables.query("select count(*) as n from information_schema.tables where table_schema = 'raw'") == [
        {"n": 0}
    ]  # the landing table is not created when the events are elsewhere
    count = "select outcome, reason, count(*) as n from main.fct_event_outcomes group by all order by all"
    assert tables.query(count) == seeds.query(count)


def test_a_catalog_table_missing_a_column_fails_naming_table_and_column(builds, tmp_path):
    # (copies of the tables project: the same vars, so no new parse)
    p = builds[1].copy(tmp_path / "missing_column")
    p.query("alter table warehouse.customers drop column billing_provider")
    result = p.build(as_of=AS_OF, expect_success=False)
    assert not result.success
    message = "\n".join(result.problems)
    assert "warehouse" in message and "customers" in message, message
    assert "missing column(s) billing_provider" in message, message


def test_a_configured_events_table_that_does_not_exist_fails_naming_it(builds, tmp_path):
    p = builds[1].copy(tmp_path / "no_events")
    p.query(f"drop table {EVENTS}")
    result = p.build(as_of=AS_OF, expect_success=False)
    assert not result.success
    message = "\n".join(result.problems)
    assert "app_events" in message and "does not exist" in message, message
