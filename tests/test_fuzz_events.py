"""Fuzz: thousands of random and malformed events (random JSON, huge and negative numbers, unicode,
missing fields, offsets, far-past and far-future timestamps, duplicates with different payloads,
unreadable lines) land and build; the build succeeds, nothing is lost and the outcomes add up.

Hypothesis draws one seed per example; each example lands EVENTS_PER_BUILD rows in one project and
runs one build (dbt costs seconds per build, so the randomness is in the batch).
"""

from __future__ import annotations

import json
import random

import pytest
from conftest import BillingTestProject
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

EVENTS_PER_BUILD = 2500
MAX_BUILDS = 2
OUTCOMES = {"metered", "unmetered", "duplicate", "rejected"}
REASONS = {
    "missing_transaction_id",
    "missing_customer_id",
    "missing_event_type",
    "invalid_timestamp",
    "future_timestamp",
    "invalid_properties",
    "unknown_customer",
    "no_active_contract",
    "non_numeric_value",
    "value_out_of_range",
}
METRICS = """billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
  - {name: gigabytes, event_type: store, aggregation: sum, property: gb, group_keys: [region]}
  - {name: peak, event_type: store, aggregation: max, property: gb}
  - {name: users, event_type: login, aggregation: unique, property: user}
  - {name: latest_gb, event_type: store, aggregation: latest, property: gb,
     filters: [{property: region, in: [us, "é"]}]}
"""
UNICODE = ["é", "日本語", "🙂", "\u0000", "\u202e", "a\nb", "'; drop table x; --", "=1+1", "\\", '"']
NUMBERS = [
    0,
    -5,
    3,
    2.5,
    1e308,
    -1e308,
    1e-300,
    12345678901234567890123,
    "123.45",
    "-7",
    "1e400",
    "NaN",
    "Infinity",
    "0x10",
    "",
    " 42 ",
    True,
    None,
    [],
    {},
    "abc",
]


def timestamp(rng: random.Random):
    return rng.choice(
        [
            "2025-01-15T10:00:00Z",
            "2025-02-03T23:59:59.999999Z",
            "2025-01-31T23:30:00-05:00",
            "2025-02-01T01:30:00+02:00",
            "2025-01-10 08:00:00",
            "2025-02-14",
            "2025-02-30T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "1900-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2025-02-16T12:00:00+14:00",
            "2025-13-01T00:00:00Z",
            "yesterday",
            "",
            None,
            1736935200,
            "2025-01-15T10:00:00",
            "2025-01-15T25:00:00Z",
            rng.choice(UNICODE),
        ]
    )


def properties(rng: random.Random):
    kind = rng.random()
    if kind < 0.1:
        return rng.choice([None, "not an object", [1, 2], 42, '{"gb": 5}', {}])
    props = {}
    for _ in range(rng.randint(0, 4)):
        key = rng.choice(["gb", "region", "user", "nested", rng.choice(UNICODE)])
        value = rng.choice(NUMBERS + UNICODE + ["us", "eu", {"deep": [1, {"x": None}]}])
        props[key] = value
    return props


def event(rng: random.Random, ids: list[str]) -> dict:
    if ids and rng.random() < 0.15:
        transaction_id = rng.choice(ids)  # a duplicate, usually with a different payload
    else:
        transaction_id = rng.choice(
            [f"t{rng.randrange(10**9)}", f"t{rng.randrange(10**9)}", "", None, 17, "x" * 300, rng.choice(UNICODE)]
        )
        if isinstance(transaction_id, str) and transaction_id:
            ids.append(transaction_id)
    row = {
        "transaction_id": transaction_id,
        "customer_id": rng.choice(["c1", "c1", "alias-1", "ghost", "", None, 5, rng.choice(UNICODE)]),
        "event_type": rng.choice(["call", "store", "store", "login", "other", "", None, ["call"], rng.choice(UNICODE)]),
        "timestamp": timestamp(rng),
        "properties": properties(rng),
    }
    for field in list(row):
        if rng.random() < 0.05:
            del row[field]  # a missing field
    return row


def raw_line(rng: random.Random) -> str:
    return rng.choice(
        [
            '{"transaction_id": "cut',
            "[1, 2, 3]",
            "42",
            "null",
            '"text"',
            "{}",
            "{,}",
            '{"transaction_id": "' + "é" * 10 + '", "customer_id": "c1"',
            "\ufeff{}",
        ]
    )


AS_OF = "2025-03-01T00:00:00Z"


def land(project: BillingTestProject, seed: int) -> str:
    """One batch of random events in two loads; returns the id of an event with a huge quantity."""
    rng = random.Random(seed)
    ids: list[str] = []
    events = [event(rng, ids) for _ in range(EVENTS_PER_BUILD)]
    # a quantity beyond the supported range (10^15 per event, D56) is rejected, not a crash
    huge = f"huge-{seed}"
    events.append(
        {
            "transaction_id": huge,
            "customer_id": "c1",
            "event_type": "store",
            "timestamp": "2025-01-20T00:00:00Z",
            "properties": {"gb": "123456789012345678901234"},
        }
    )
    lines = [raw_line(rng) for _ in range(EVENTS_PER_BUILD // 50)]
    # half the rows in one load, the rest (with re-sent ids) in a second one
    project.ingest(events[: len(events) // 2], loaded_at="2025-02-15T00:00:00Z", raw_lines=lines)
    project.ingest(events[len(events) // 2 :], loaded_at="2025-02-16T00:00:00Z")
    return huge


def prepare(p: BillingTestProject) -> str:
    """The catalog and one fixed batch of random and malformed events; returns the as-of instant.
    (tests/test_spark_parity.py builds it on Spark too: malformed input gets the same outcome.)"""
    setup_catalog(p)
    land(p, seed=20251122)
    return AS_OF


def setup_catalog(p: BillingTestProject) -> None:
    p.metrics(METRICS)
    p.seeds(
        customers=[{"customer_id": "c1", "name": "One", "ingest_aliases": ["alias-1"]}],
        products=[
            {"product_id": "api", "name": "API", "type": "USAGE", "billable_metric": "calls"},
            {
                "product_id": "disk",
                "name": "Disk",
                "type": "USAGE",
                "billable_metric": "gigabytes",
                "pricing_group_key": ["region"],
            },
            {"product_id": "peak", "name": "Peak", "type": "USAGE", "billable_metric": "peak"},
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {"rate_card_id": "rc", "product_id": pid, "starting_at": "2024-01-01", "rate_type": "FLAT", "price": "0.01"}
            for pid in ("api", "disk", "peak")
        ],
        contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"}],
        contract_credits=[{"credit_id": "cr", "contract_id": "k1", "amount": "5", "access_starting_at": "2025-01-01"}],
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("fuzz"))
    setup_catalog(p)
    return p


@settings(
    max_examples=MAX_BUILDS,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_random_and_malformed_events_build_and_add_up(project, seed):
    huge = land(project, seed)
    result = project.build(as_of=AS_OF, expect_success=False)
    assert result.success, result.describe()

    raw = project.query("select count(*) as n from raw.usage_events")[0]["n"]
    outcomes = project.query("select outcome, reason, count(*) as n from main.fct_event_outcomes group by all")
    assert sum(r["n"] for r in outcomes) == raw, "every raw row has exactly one outcome"
    assert {r["outcome"] for r in outcomes} <= OUTCOMES
    assert {r["reason"] for r in outcomes if r["outcome"] == "rejected"} <= REASONS
    assert all(r["reason"] is None for r in outcomes if r["outcome"] != "rejected")
    summary = project.query("select sum(event_count) as n from main.fct_event_load_summary")[0]["n"]
    assert summary == raw
    assert project.query("select outcome, reason from main.fct_event_outcomes where transaction_id = ?", [huge]) == [
        {"outcome": "rejected", "reason": "value_out_of_range"}
    ]
    by_outcome = {r["outcome"] for r in outcomes}
    assert {"metered", "duplicate", "rejected"} <= by_outcome, outcomes
    # the invoices are computed and reconcile (dbt tests ran in the build); totals are exact decimals
    assert all(r["total"] is not None for r in project.invoices())
    json.dumps([str(r["total"]) for r in project.invoices()])
