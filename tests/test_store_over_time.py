"""The invoice store over a database's life (issue 15, DECISIONLOG D43): lateness follows what the
storing build saw, not its as-of; a database with the store tables of earlier versions is migrated.
Builds killed at a store step (every final invoice stays whole, and a month stored by the killed build
gets the next load as late usage) are steps of the year story, tests/test_year_of_operations.py.

Catalog (hand-computed amounts below): product `api`, TIERED per period: the first 10 calls at $1.00,
the rest at $0.50; monthly periods from Jan 1 2025; a $5 credit (Jan 1 - Apr 1, all products);
a $100 setup fee on Jan 15 (a SCHEDULED invoice).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import D
from test_finalization import FEB, MAR, METRICS, calls, catalog, invoice_rows

CREDIT = [
    {
        "credit_id": "cr",
        "contract_id": "k1",
        "name": "Welcome",
        "amount": "5",
        "access_starting_at": "2025-01-01",
        "access_ending_before": "2025-04-01",
    }
]


def store_snapshot(p) -> list[tuple]:
    """Every stored row, as text: a stored invoice must stay byte-identical."""
    return [
        tuple(map(str, r.values()))
        for r in p.query(
            "select * from main.invoice_store order by record_type, invoice_id, invoice_version, line_item_id, balance_id"
        )
    ]


def test_a_backfill_with_a_past_as_of_makes_nothing_late(make_project):
    # Events landed now (loaded_at = the real clock, as `billing ingest` sets it), then a backfill
    # build as of Apr 2 2025 stores January to March. A price edit afterwards must change no final
    # invoice and add no adjustment: no event arrived after the storing build. An event that lands
    # after it is late, and only its period is adjusted.
    p = make_project().seeds(**catalog()).metrics(METRICS)
    p.ingest(calls("jan", 8, "2025-01-20") + calls("feb", 12, "2025-02-10") + calls("mar", 3, "2025-03-03"))
    started = datetime.now(UTC).replace(tzinfo=None)
    p.build(as_of="2025-04-02T00:00:00Z", data_tests=False)
    before = store_snapshot(p)

    p.seeds(**catalog(tiers=[{"size": "10", "price": "2.00"}, {"price": "1.00"}]))  # a price edit
    p.build(as_of="2025-04-03T00:00:00Z", data_tests=False)
    assert store_snapshot(p) == before
    assert [r for r in p.lines() if r["line_type"] == "late_usage_adjustment"] == []
    [feb], [apr] = invoice_rows(p, FEB), invoice_rows(p, datetime(2025, 4, 1))
    assert (feb["total"], apr["status"], apr["total"]) == (D("11.00"), "DRAFT", D("0.00"))
    # the store's time stamps: the build's real start, and the as-of it evaluated statuses at
    stored = p.query("select distinct stored_at, stored_as_of from main.invoice_store")
    assert len(stored) == 1 and stored[0]["stored_as_of"] == datetime(2025, 4, 2)
    assert started - timedelta(seconds=1) <= stored[0]["stored_at"] <= datetime.now(UTC).replace(tzinfo=None)

    # one late March call, landed after the storing build: March re-rated at today's catalog
    # (4 calls x 2.00 = 8.00) less 3.00 billed = +5.00 on April; January and February untouched
    p.ingest(calls("late", 1, "2025-03-20"))
    p.build(as_of="2025-04-04T00:00:00Z")
    [mar] = invoice_rows(p, MAR)
    late = [(r["adjusted_invoice_id"], r["amount"]) for r in p.lines() if r["line_type"] == "late_usage_adjustment"]
    assert late == [(mar["invoice_id"], D("5.00"))]


def test_a_database_with_the_pre_d43_store_tables_is_migrated(make_project):
    # the three store tables of earlier versions (finalized_invoices, _invoice_line_items,
    # _balance_drawdowns as tables, no invoice_store): the next build copies them in as version 1,
    # the views replace them, and nothing is re-rated or adjusted
    p = make_project().seeds(**catalog(credits=CREDIT)).metrics(METRICS)
    p.ingest(calls("jan", 8, "2025-01-20"), loaded_at="2025-01-21T00:00:00Z")
    p.build(as_of="2025-02-02T00:00:00Z", data_tests=False)
    invoices = [
        {k: v for k, v in r.items() if k not in ("invoice_version", "stored_at", "stored_as_of")} for r in p.invoices()
    ]
    for name in ("finalized_invoices", "finalized_invoice_line_items", "finalized_balance_drawdowns"):
        p.query(
            f"create table main.old_{name} as select * exclude (record_type, invoice_version, stored_as_of, "
            f"events_loaded_through) from main.{name}"
        )
        p.query(f"drop view main.{name}")
        p.query(f"alter table main.old_{name} rename to {name}")
    p.query("drop table main.invoice_store")
    # and the catalog's staging models as the views of the versions before D76: tables replace them
    staging = {
        r["table_name"]: r["table_type"].replace("BASE ", "")
        for r in p.query(
            "select table_name, table_type from information_schema.tables where table_schema = 'main' "
            "and table_name like 'stg\\_%' escape '\\' and table_name <> 'stg_usage_events'"
        )
    }
    assert len(staging) == 10, staging
    for name, kind in staging.items():
        p.query(f"create table main.copy_of_{name} as select * from main.{name}")
        p.query(f"drop {kind} main.{name}")
        p.query(f"create view main.{name} as select * from main.copy_of_{name}")
    p.build(as_of="2025-02-03T00:00:00Z", column_rules=True)  # a migrated store: keys unique
    assert {
        r["table_type"]
        for r in p.query(
            "select table_type from information_schema.tables where table_schema = 'main' "
            f"and table_name in ({', '.join(repr(n) for n in staging)})"
        )
    } == {"BASE TABLE"}
    assert [
        {k: v for k, v in r.items() if k not in ("invoice_version", "stored_at", "stored_as_of")} for r in p.invoices()
    ] == invoices
    assert {
        (r["record_type"], r["stored_by_invocation_id"])
        for r in p.query("select distinct record_type, stored_by_invocation_id from main.invoice_store")
    } == {("invoice", "migrated"), ("line", "migrated"), ("drawdown", "migrated")}
    assert [r["line_type"] for r in p.lines()].count("late_usage_adjustment") == 0
