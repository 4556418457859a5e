"""Guards on every input (issue #16): RFC 3339 ranges for offsets, hours and seconds, and leap
seconds, in events and in seed timestamps alike (DECISIONLOG D46). One catalog, one build; each
test checks its events by hand; a second catalog, of bad seed timestamps, fails its build.

tests/test_spark_parity.py builds `prepare` on Spark too (the same outcomes and usage on both engines).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import BillingTestProject, D

AS_OF = "2025-07-02T12:00:00Z"  # June is final (Jul 1 + 24 h grace)
LOADED_AT = "2025-07-02T00:00:00Z"

METRICS = """
billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
"""

CATALOG = {
    "customers": [{"customer_id": "c1", "name": "One"}],
    "products": [{"product_id": "p_calls", "name": "Calls", "type": "USAGE", "billable_metric": "calls"}],
    "rate_cards": [{"rate_card_id": "rc", "name": "List"}],
    # seed timestamps follow the same rules: +23:59 (beyond Spark's +-18:00) is Dec 31 00:01 UTC
    "rate_card_rates": [
        {
            "rate_card_id": "rc",
            "product_id": "p_calls",
            "starting_at": "2025-01-01T00:00:00+23:59",
            "rate_type": "FLAT",
            "price": "1",
        }
    ],
    "contracts": [
        {
            "contract_id": "k1",
            "customer_id": "c1",
            "rate_card_id": "rc",
            "name": "K",
            "starting_at": "2025-01-01T00:00:00Z",
        }
    ],
}

# transaction_id -> (timestamp as sent, UTC instant it means or None when invalid_timestamp)
TIMESTAMPS = {
    # an offset beyond 23:59 is not RFC 3339; read as -1 day +1 h it moved usage into a final January
    "tz_plus_25": ("2025-02-01T00:30:00+25:00", None),
    "tz_minus_2500": ("2025-02-01T00:30:00-2500", None),
    "tz_minute_75": ("2025-02-01T00:30:00+05:75", None),
    "tz_plus_24": ("2025-02-01T00:30:00+24", None),
    "hour_24": ("2025-03-01T24:00:00Z", None),
    "minute_60": ("2025-03-01T12:60:00Z", None),
    "second_61": ("2025-06-30T23:59:61Z", None),
    "newline_after": ("2025-03-02T00:00:00Z\n", None),
    # the largest offsets RFC 3339 allows; beyond Spark's own +-18:00, the same instant on both engines
    "tz_plus_2359": ("2025-02-01T00:30:00+23:59", datetime(2025, 1, 31, 0, 31)),
    "tz_minus_1930": ("2025-02-16T12:00:00-19:30", datetime(2025, 2, 17, 7, 30)),
    "tz_plus_0530": ("2025-02-16T12:00:00+0530", datetime(2025, 2, 16, 6, 30)),
    "tz_minus_05": ("2025-02-16T22:00:00.5-05", datetime(2025, 2, 17, 3, 0, 0, 500000)),
    "tz_minus_0000": ("2025-02-20t10:00:00-00:00", datetime(2025, 2, 20, 10, 0)),
    # a leap second (the last second of a UTC day) stays in its day: 23:59:59.999999 (DECISIONLOG D46)
    "leap": ("2025-06-30T23:59:60Z", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    "leap_fraction": ("2025-06-30T23:59:60.25Z", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    "leap_offset": ("2025-07-01T01:59:60+02:00", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    "leap_space": ("2025-06-30 23:59:60", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    "leap_west": ("2025-06-30T18:29:60-05:30", datetime(2025, 6, 30, 23, 59, 59, 999999)),
    # second 60 anywhere but the last minute of a UTC day is no leap second
    "leap_midday": ("2025-06-30T12:00:60Z", None),
    "leap_local_midnight": ("2025-06-30T23:59:60+02:00", None),
}


def events() -> list[dict]:
    return [
        {"transaction_id": tid, "customer_id": "c1", "event_type": "call", "timestamp": ts, "properties": {}}
        for tid, (ts, _) in TIMESTAMPS.items()
    ]


def prepare(p: BillingTestProject) -> str:
    """The catalog and events of this module; returns the as-of instant (also built on Spark)."""
    p.metrics(METRICS)
    p.seeds(**CATALOG)
    p.ingest(events(), loaded_at=LOADED_AT)
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("guards"))
    p.build(as_of=prepare(p))
    return p


def test_offsets_beyond_23_59_and_false_leap_seconds_are_invalid(project):
    outcomes = project.outcomes()
    invalid = sorted(tid for tid, (_, at) in TIMESTAMPS.items() if at is None)
    assert {tid: outcomes[tid] for tid in invalid} == dict.fromkeys(invalid, ("rejected", "invalid_timestamp"))


def test_valid_offsets_and_leap_seconds_mean_their_utc_instant(project):
    parsed = {
        r["transaction_id"]: r["event_at"]
        for r in project.query("select transaction_id, event_at from main.stg_usage_events")
    }
    valid = {tid: at for tid, (_, at) in TIMESTAMPS.items() if at is not None}
    assert {tid: parsed[tid] for tid in valid} == valid
    assert all(project.outcomes()[tid] == ("metered", None) for tid in valid)


def test_seed_offsets_up_to_23_59_mean_their_utc_instant(project):
    assert project.query("select starting_at from main.stg_rate_card_rates") == [
        {"starting_at": datetime(2024, 12, 31, 0, 1)}
    ]


def test_leap_seconds_are_billed_in_their_period(project):
    usage = {
        r["starting_at"].date(): (r["quantity"], r["amount"]) for r in project.lines("k1") if r["line_type"] == "usage"
    }
    # January: tz_plus_2359 only (tz_plus_25 was wrongly there); February: -19:30, +0530, -05, -00:00;
    # June: the five leap seconds, none in July
    assert usage == {
        date(2025, 1, 1): (D(1), D("1.00")),
        date(2025, 2, 1): (D(4), D("4.00")),
        date(2025, 6, 1): (D(5), D("5.00")),
    }


def test_seed_timestamps_out_of_range_fail_the_build_naming_row_and_column(make_project):
    p = make_project()
    p.metrics(METRICS).seeds(
        customers=[{"customer_id": c, "name": c} for c in ("c1", "c2", "c3")],
        products=CATALOG["products"],
        rate_cards=CATALOG["rate_cards"],
        rate_card_rates=[
            {
                "rate_card_id": "rc",
                "product_id": "p_calls",
                "starting_at": "2025-01-01",
                "ending_before": "2025-06-30T12:00:60Z",
                "rate_type": "FLAT",
                "price": "1",
            }
        ],
        contracts=[
            # a leap second at the end of 2025 (01:59:60 at +02:00) is 2025-12-31 23:59:59.999999 UTC
            {
                "contract_id": "k1",
                "customer_id": "c1",
                "rate_card_id": "rc",
                "starting_at": "2025-01-01",
                "ending_before": "2026-01-01T01:59:60+02:00",
            },
            {
                "contract_id": "k2",
                "customer_id": "c2",
                "rate_card_id": "rc",
                "starting_at": "2025-01-01T00:00:00+25:00",
            },
            # the leap second is the last instant of June 30: half a second earlier is before it
            {
                "contract_id": "k3",
                "customer_id": "c3",
                "rate_card_id": "rc",
                "starting_at": "2025-06-30T23:59:60Z",
                "ending_before": "2025-06-30T23:59:59.5Z",
            },
        ],
        contract_overrides=[
            {
                "override_id": "o1",
                "contract_id": "k1",
                "product_id": "p_calls",
                "price": "2",
                "type": "OVERWRITE",
                "starting_at": "2025-02-01",
                "ending_before": "2025-04-01T00:00:00+2400",
            }
        ],
        contract_subscriptions=[
            {
                "subscription_id": "s1",
                "contract_id": "k1",
                "product_id": "p_calls",
                "quantity": "1",
                "starting_at": "2025-01-01T00:00:60Z",
            }
        ],
        contract_scheduled_charges=[
            {"scheduled_charge_id": "sc1", "contract_id": "k1", "timestamp": "2025-02-01T00:00:00+05:75", "amount": "1"}
        ],
        contract_credits=[
            {
                "credit_id": "cr1",
                "contract_id": "k1",
                "amount": "1",
                "access_starting_at": "2025-01-01",
                "access_ending_before": "2025-03-01T24:00:00Z",
            }
        ],
        contract_commits=[
            {
                "commit_id": "cm1",
                "contract_id": "k1",
                "type": "PREPAID",
                "amount": "1",
                "access_starting_at": "2025-01-01T00:00:00-23:59",
                "invoice_at": "2025-02-01T00:00:00-24:00",
            }
        ],
    )
    result = p.build(as_of=AS_OF, expect_success=False)
    text = "\n".join(result.problems)
    expected = [
        "seed=rate_card_rates.csv, row_key=rc/p_calls/2025-01-01, problem=ending_before is not a valid timestamp",
        "seed=contracts.csv, row_key=k2, problem=starting_at is missing or not a valid timestamp",
        "seed=contracts.csv, row_key=k3, problem=ending_before is not after starting_at",
        "seed=contract_overrides.csv, row_key=o1, problem=ending_before is not a valid timestamp",
        "seed=contract_subscriptions.csv, row_key=s1, problem=starting_at is missing or not a valid timestamp",
        "seed=contract_scheduled_charges.csv, row_key=sc1, problem=timestamp is missing or not a valid timestamp",
        "seed=contract_credits.csv, row_key=cr1, problem=access_ending_before is not a valid timestamp",
        "seed=contract_commits.csv, row_key=cm1, problem=invoice_at is not a valid timestamp",
    ]
    missing = [e for e in expected if e not in text]
    assert not missing, f"missing from:\n{text}"
    # -23:59 and the leap seconds of k1 and k3 are valid: no other timestamp problem
    assert text.count("timestamp") == sum(e.count("timestamp") for e in expected), text
    assert p.query("select contract_id, starting_at, ending_before from main.stg_contracts order by contract_id") == [
        {
            "contract_id": "k1",
            "starting_at": datetime(2025, 1, 1),
            "ending_before": datetime(2025, 12, 31, 23, 59, 59, 999999),
        },
        {"contract_id": "k2", "starting_at": None, "ending_before": None},
        {
            "contract_id": "k3",
            "starting_at": datetime(2025, 6, 30, 23, 59, 59, 999999),
            "ending_before": datetime(2025, 6, 30, 23, 59, 59, 500000),
        },
    ]
