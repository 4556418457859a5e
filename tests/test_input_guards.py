"""Guards on every input (issue #16): RFC 3339 offsets and leap seconds, ragged CSV rows, filter
values with quotes and backslashes. One catalog, one build; each test checks its events by hand.

tests/test_spark_parity.py builds `prepare` on Spark too (the same outcomes and usage on both engines).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from conftest import BillingTestProject, D

from billing_cli.ingest import ingest

AS_OF = "2025-07-02T12:00:00Z"     # June is final (Jul 1 + 24 h grace)
LOADED_AT = "2025-07-02T00:00:00Z"

METRICS = """
billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
"""

CATALOG = {
    "customers": [{"customer_id": "c1", "name": "One"}],
    "products": [{"product_id": "p_calls", "name": "Calls", "type": "USAGE", "billable_metric": "calls"}],
    "rate_cards": [{"rate_card_id": "rc", "name": "List"}],
    "rate_card_rates": [{"rate_card_id": "rc", "product_id": "p_calls", "starting_at": "2025-01-01",
                         "rate_type": "FLAT", "price": "1"}],
    "contracts": [{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "name": "K",
                   "starting_at": "2025-01-01T00:00:00Z"}],
}

# transaction_id -> (timestamp as sent, UTC instant it means or None when invalid_timestamp)
TIMESTAMPS = {
    # an offset beyond 23:59 is not RFC 3339; read as -1 day +1 h it moved usage into a final January
    "tz_plus_25": ("2025-02-01T00:30:00+25:00", None),
    "tz_minus_2500": ("2025-02-01T00:30:00-2500", None),
    "tz_minute_75": ("2025-02-01T00:30:00+05:75", None),
    "hour_24": ("2025-03-01T24:00:00Z", None),
    # the largest offsets RFC 3339 allows; beyond Spark's own +-18:00, the same instant on both engines
    "tz_plus_2359": ("2025-02-01T00:30:00+23:59", datetime(2025, 1, 31, 0, 31)),
    "tz_minus_1930": ("2025-02-16T12:00:00-19:30", datetime(2025, 2, 17, 7, 30)),
    "tz_plus_0530": ("2025-02-16T12:00:00+0530", datetime(2025, 2, 16, 6, 30)),
    # a leap second (the last second of a UTC day) stays in its day: 23:59:59.999999 (DECISIONLOG D46)
    "leap": ("2025-06-30T23:59:60Z", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    "leap_fraction": ("2025-06-30T23:59:60.25Z", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    "leap_offset": ("2025-07-01T01:59:60+02:00", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    "leap_space": ("2025-06-30 23:59:60", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    # second 60 anywhere but the last minute of a UTC day is no leap second
    "leap_midday": ("2025-06-30T12:00:60Z", None),
    "leap_local_midnight": ("2025-06-30T23:59:60+02:00", None),
}


def events() -> list[dict]:
    return [{"transaction_id": tid, "customer_id": "c1", "event_type": "call", "timestamp": ts, "properties": {}}
            for tid, (ts, _) in TIMESTAMPS.items()]


def prepare(p: BillingTestProject) -> str:
    """The catalog and events of this module; returns the as-of instant (also built on Spark)."""
    p.metrics(METRICS)
    p.seeds(**CATALOG)
    p.ingest(events(), loaded_at=LOADED_AT)
    # a CSV with two ragged rows: the good rows land, the bad ones are landed for rejection
    path = p.root / "ragged.csv"
    path.write_text("transaction_id,customer_id,event_type,timestamp,properties\n"
                    "csv_1,c1,call,2025-03-10T00:00:00Z,\n"
                    "csv_2,c1\n"
                    "csv_3,c1,call,2025-03-11T00:00:00Z,{},x,y\n"
                    "csv_4,c1,call,2025-03-12T00:00:00Z,{}\n")
    ingest(p.db_path, [str(path)], loaded_at=datetime(2025, 7, 2, 0, 0, 1))
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("guards"))
    p.build(as_of=prepare(p))
    return p


def test_offsets_beyond_23_59_and_false_leap_seconds_are_invalid(project):
    outcomes = project.outcomes()
    invalid = sorted(tid for tid, (_, at) in TIMESTAMPS.items() if at is None)
    assert {tid: outcomes[tid] for tid in invalid} == {tid: ("rejected", "invalid_timestamp") for tid in invalid}


def test_valid_offsets_and_leap_seconds_mean_their_utc_instant(project):
    parsed = {r["transaction_id"]: r["event_at"] for r in project.query(
        "select transaction_id, event_at from main.stg_usage_events")}
    valid = {tid: at for tid, (_, at) in TIMESTAMPS.items() if at is not None}
    assert {tid: parsed[tid] for tid in valid} == valid
    assert all(project.outcomes()[tid] == ("metered", None) for tid in valid)


def test_leap_seconds_are_billed_in_their_period(project):
    usage = {r["starting_at"].date(): (r["quantity"], r["amount"]) for r in project.lines("k1")
             if r["line_type"] == "usage"}
    # January: tz_plus_2359 only (tz_plus_25 was wrongly there); February: the -19:30 and +0530 events;
    # March: the two good CSV rows; June: the four leap seconds, none in July
    assert usage == {date(2025, 1, 1): (D(1), D("1.00")), date(2025, 2, 1): (D(2), D("2.00")),
                     date(2025, 3, 1): (D(2), D("2.00")), date(2025, 6, 1): (D(4), D("4.00"))}


def test_ragged_csv_rows_are_rejected_with_their_line(project):
    rows = project.query("select source_line, outcome, reason, reason_detail, transaction_id "
                         "from main.fct_event_outcomes where source_file like '%ragged.csv' order by source_line")
    assert [(r["source_line"], r["transaction_id"], r["outcome"], r["reason"], r["reason_detail"]) for r in rows] == [
        (2, "csv_1", "metered", None, None),
        (3, None, "rejected", "invalid_properties", "line has 2 fields, the header 5"),
        (4, None, "rejected", "invalid_properties", "line has 7 fields, the header 5"),
        (5, "csv_4", "metered", None, None),
    ]
