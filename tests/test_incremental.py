"""Incremental event processing (DECISIONLOG D32): a nightly build recomputes only its batch, and
gives what a from-scratch build gives.

The equivalence test runs one story on two projects with the same seeds, metrics and loads: one
builds incrementally, the other with --full-refresh every time (every event model recomputed from
all of raw.usage_events). After every step every mart, the finalized store and the dedup table
must be identical, row for row. The story covers what can invalidate earlier work: duplicates
across loads with other payloads, a late load for a finalized period, a customer and an alias
added after their events arrived, a contract window moved back, a back-dated load (rows below the
watermark), a changed metric definition, and rows without a loaded_at.
"""

from __future__ import annotations

import os
import random

import duckdb
from conftest import TEST_DBT_FLAGS

from billing_cli.publish import publish

METRICS = """billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
  - {name: tokens, event_type: completion, aggregation: sum, property: tokens, group_keys: [model]}
  - {name: users, event_type_in: [call, completion], aggregation: unique, property: user}
"""
METRICS_CHANGED = """billable_metrics:
  - name: calls
    event_type: call
    aggregation: count
    filters: [{property: user, not_in: [u1]}]
  - {name: tokens, event_type: completion, aggregation: sum, property: tokens, group_keys: [model]}
  - {name: users, event_type_in: [call, completion], aggregation: unique, property: user}
"""

# one `call` event, the start of the stories that check the dedup table and its test
CALL = {
    "transaction_id": "t1",
    "customer_id": "A",
    "event_type": "call",
    "timestamp": "2025-01-03T00:00:00Z",
    "properties": {"user": "u1"},
}
CUSTOMERS = [{"customer_id": "A", "name": "Alpha", "ingest_aliases": ["a-alias"]}, {"customer_id": "B", "name": "Beta"}]
CUSTOMERS_LATER = [
    {"customer_id": "A", "name": "Alpha", "ingest_aliases": ["a-alias"]},
    {"customer_id": "B", "name": "Beta", "ingest_aliases": ["legacy-b"]},
    {"customer_id": "c", "name": "Gamma"},
]
CONTRACTS = [
    {"contract_id": "kA", "customer_id": "A", "rate_card_id": "rc", "name": "A", "starting_at": "2025-01-01T00:00:00Z"},
    {"contract_id": "kB", "customer_id": "B", "rate_card_id": "rc", "name": "B", "starting_at": "2025-02-01T00:00:00Z"},
]
CONTRACTS_LATER = [
    CONTRACTS[0],
    {**CONTRACTS[1], "starting_at": "2025-01-10T00:00:00Z"},
    {"contract_id": "kC", "customer_id": "c", "rate_card_id": "rc", "name": "C", "starting_at": "2025-01-01T00:00:00Z"},
]
CATALOG = {
    "products": [
        {"product_id": "calls", "name": "Calls", "type": "USAGE", "billable_metric": "calls"},
        {"product_id": "tokens", "name": "Tokens", "type": "USAGE", "billable_metric": "tokens"},
        {"product_id": "users", "name": "Users", "type": "USAGE", "billable_metric": "users"},
    ],
    "rate_cards": [{"rate_card_id": "rc", "name": "List"}],
    "rate_card_rates": [
        {"rate_card_id": "rc", "product_id": "calls", "starting_at": "2025-01-01", "rate_type": "FLAT", "price": "0.5"},
        {
            "rate_card_id": "rc",
            "product_id": "tokens",
            "starting_at": "2025-01-01",
            "rate_type": "TIERED",
            "tiers": [{"size": 100, "price": "0.01"}, {"price": "0.005"}],
        },
        {"rate_card_id": "rc", "product_id": "users", "starting_at": "2025-01-01", "rate_type": "FLAT", "price": "2"},
    ],
    "contract_credits": [{"credit_id": "cr", "contract_id": "kA", "amount": "3", "access_starting_at": "2025-01-01"}],
}
COMPARED = (
    "fct_invoices",
    "fct_billed_quantities",
    "fct_invoice_line_items",
    "fct_usage_daily",
    "int_usage_daily_partials",
    "fct_event_outcomes",
    "fct_event_load_summary",
    "fct_balance_ledger",
    "fct_balances",
    "finalized_invoices",
    "finalized_invoice_line_items",
    "finalized_balance_drawdowns",
    "int_events_deduplicated",
    "int_stored_invoice_line_items",
)


def events(rng: random.Random, prefix: str, n: int, month: int, reused_ids: list[str]) -> list[dict]:
    out = []
    for i in range(n):
        tid = rng.choice(reused_ids) if reused_ids and rng.random() < 0.1 else f"{prefix}{i}"
        kind = rng.choice(["call", "completion", "other"])
        props = {"user": rng.choice(["u1", "u2", "u3", "u4"]), "model": rng.choice(["m1", "m2"])}
        if kind == "completion":
            props["tokens"] = rng.choice([1, 7, 40, "12", "abc"]) if rng.random() < 0.95 else "abc"
        out.append(
            {
                "transaction_id": tid,
                "customer_id": rng.choice(["A", "a-alias", "B", "c", "legacy-b", "zzz"]),
                "event_type": kind,
                "timestamp": f"2025-{month:02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
                "properties": props,
            }
        )
    return out


def table_rows(project, table: str) -> list[str]:
    """The table's rows as sorted text; the project's own folder (in source_file), and the dbt
    invocation that stored a final invoice and the real time it did (D43), left out."""
    return sorted(
        repr(tuple(v for k, v in r.items() if k not in ("stored_by_invocation_id", "stored_at"))).replace(
            str(project.root), ""
        )
        for r in project.query(f"select * from main.{table}")
    )


def assert_same(inc, full, step: str):
    for table in COMPARED:
        a, b = table_rows(inc, table), table_rows(full, table)
        assert a == b, (
            f"after {step}: {table} differs (incremental {len(a)} rows, from scratch {len(b)} rows)\n"
            + "\n".join(sorted(set(a) ^ set(b))[:10])
        )


def test_incremental_builds_equal_from_scratch_builds(make_project):
    inc = make_project().seeds(customers=CUSTOMERS, contracts=CONTRACTS, **CATALOG).metrics(METRICS)
    full = make_project().seeds(customers=CUSTOMERS, contracts=CONTRACTS, **CATALOG).metrics(METRICS)
    rng = random.Random(20251)
    seen: list[str] = []

    def load(batch: list[dict], loaded_at: str, raw_lines=()):
        for p in (inc, full):
            p.ingest(batch, loaded_at=loaded_at, raw_lines=raw_lines)
        seen.extend(e["transaction_id"] for e in batch)

    published: dict[str, str] = {}
    published_loads: dict[str, str] = {}
    published_invoices: dict[str, str] = {}

    def build(step: str, as_of: str, first: bool = False, publish_after: bool = True):
        inc.build(as_of=as_of, column_rules=True)  # keys stay unique over incremental steps
        if publish_after:
            # the readers' copy (billing_cli/publish.py): fct_usage_daily copied whole, or only the
            # build's batch redone in the previous copy; either way equal to the warehouse's table
            publication = publish(inc.db_path, inc.dir)
            published[step] = publication.usage_daily
            published_loads[step] = publication.load_summary
            published_invoices[step] = publication.invoices
            read = duckdb.connect(str(publication.path), read_only=True)
            try:
                for table in (
                    "fct_usage_daily",
                    "fct_event_load_summary",
                    "fct_invoices",
                    "fct_invoice_line_items",
                    "fct_billed_quantities",
                ):
                    copy = sorted(repr(row) for row in read.execute(f"select * from {table}").fetchall())
                    held = sorted(repr(tuple(r.values())) for r in inc.query(f"select * from main.{table}"))
                    assert copy == held, f"after {step}: the published {table} differs ({publication})"
            finally:
                read.close()
        if first:
            # a project's first build plans every event model 'full' (DECISIONLOG D32: no relation yet),
            # the plan --full-refresh makes, and stores nothing at this as-of: the from-scratch
            # project would build the same tables. Its first build comes with the second step.
            return
        # the from-scratch marts equal the incremental ones, whose data tests ran on this step (so
        # the from-scratch project's, a plain build's, which every other module runs, need not)
        full.build(as_of=as_of, full_refresh=True, exclude="resource_type:test")
        assert_same(inc, full, step)

    # 1. a first load: January events, unknown and not-yet-contracted customers, malformed lines
    load(
        events(rng, "a", 120, 1, []),
        "2025-01-12T00:00:00Z",
        raw_lines=['{"transaction_id": "bad", "customer_id": "A"}', "not json"],
    )
    build("first load", "2025-01-20T00:00:00Z", first=True)
    # 2. a second load with duplicates of the first (other payloads win nothing)
    load(events(rng, "b", 120, 1, seen), "2025-01-25T00:00:00Z")
    build("second load", "2025-01-31T00:00:00Z")
    # 3. catalog: customer c and alias legacy-b appear, kB now starts Jan 10; no new events
    for p in (inc, full):
        p.seeds(customers=CUSTOMERS_LATER, contracts=CONTRACTS_LATER, **CATALOG)
    build("catalog change", "2025-01-31T12:00:00Z")
    # 4. January is finalized (Feb 2); a load on Feb 4 carries late January events and February ones.
    # This build is not published (a scheduler's plain dbt build): the next publication copies whole
    build("January finalized", "2025-02-03T00:00:00Z", publish_after=False)
    load(events(rng, "c", 60, 1, seen) + events(rng, "d", 60, 2, seen), "2025-02-04T00:00:00Z")
    build("late load", "2025-02-05T00:00:00Z")
    # 5. a back-dated load: its rows are below the watermark, so everything is recomputed
    load(events(rng, "e", 40, 2, seen), "2025-01-15T00:00:00Z")
    build("back-dated load", "2025-02-06T00:00:00Z")
    # 6. a metric definition changes
    for p in (inc, full):
        p.metrics(METRICS_CHANGED)
        p._dbt._manifest = None  # re-parse the changed models
    load(events(rng, "f", 40, 2, seen), "2025-02-07T00:00:00Z")
    build("metric definition change", "2025-02-08T00:00:00Z")
    # 7. rows without a loaded_at (not landed by `billing ingest`), then another load
    for p in (inc, full):
        p.query(
            "insert into raw.usage_events (transaction_id, customer_id, event_type, timestamp, properties) values "
            "('n1', 'A', 'call', '2025-02-07T00:00:00Z', '{\"user\": \"u9\"}'), "
            "('d1', 'B', 'call', '2025-02-07T00:00:00Z', '{}')"
        )
    build("rows without loaded_at", "2025-02-09T00:00:00Z")
    # ... and a load that takes n1's id: the loaded row wins, the row without loaded_at is a duplicate
    load(
        events(rng, "g", 40, 2, seen)
        + [
            {
                "transaction_id": "n1",
                "customer_id": "A",
                "event_type": "call",
                "timestamp": "2025-02-09T00:00:00Z",
                "properties": {"user": "u8"},
            }
        ],
        "2025-02-10T00:00:00Z",
    )
    build("last load", "2025-02-11T00:00:00Z")

    # the readers' copy took each path: whole when there was no copy, after an unpublished build and
    # on a full recompute (a back-dated load, a changed metric, rows without a loaded_at), else the
    # batch alone
    assert published == {
        "first load": "copy",
        "second load": "batch",
        "catalog change": "batch",
        "late load": "copy",
        "back-dated load": "copy",
        "metric definition change": "copy",
        "rows without loaded_at": "copy",
        "last load": "batch",
    }
    # fct_event_load_summary alike, but copied whole when attribution keys changed (the catalog change:
    # its step recounted earlier loads too)
    assert published_loads == {**published, "catalog change": "copy"}
    # the invoice tables by invoice version (D87): whole when there was no copy and when their code
    # changed (a metric is upstream of them), else the invoices whose version changed, whatever
    # the builds in between did
    assert published_invoices == {
        **dict.fromkeys(published, "batch"),
        "first load": "copy",
        "metric definition change": "copy",
    }

    # the story exercised what it claims to
    outcomes = {
        (r["outcome"], r["reason"]) for r in inc.query("select distinct outcome, reason from main.fct_event_outcomes")
    }
    assert {
        ("metered", None),
        ("unmetered", None),
        ("duplicate", None),
        ("rejected", "unknown_customer"),
        ("rejected", "non_numeric_value"),
        ("rejected", "invalid_properties"),
    } <= outcomes, outcomes
    assert (
        inc.query("select count(*) as n from main.fct_invoice_line_items where line_type = 'late_usage_adjustment'")[0][
            "n"
        ]
        > 0
    )
    assert (
        inc.query("select count(*) as n from main.fct_event_outcomes where customer_id = 'c' and outcome = 'metered'")[
            0
        ]["n"]
        > 0
    )


def _marker_rows(p):
    return {
        "dedup": p.query("select count(*) as n from main.int_events_deduplicated where source_file = 'kept'")[0]["n"],
        "outcomes": p.query("select count(*) as n from main.fct_event_outcomes where reason_detail = 'kept'")[0]["n"],
        "metric_events": p.query("select count(*) as n from main.int_metric_events where unique_value = 'kept'")[0][
            "n"
        ],
        "daily": p.query("select count(*) as n from main.fct_usage_daily where group_values = 'kept'")[0]["n"],
        "summary": p.query("select count(*) as n from main.fct_event_load_summary where event_count >= 1000")[0]["n"],
    }


def test_nightly_build_recomputes_only_its_batch(make_project):
    """Rows outside the batch are not rewritten: we mark some rows by hand (the marks are wrong values
    a recomputation would overwrite) and watch which marks survive each build."""
    p = make_project().seeds(customers=CUSTOMERS, contracts=CONTRACTS, **CATALOG).metrics(METRICS)

    def call(tid, cust, day):
        return {
            "transaction_id": tid,
            "customer_id": cust,
            "event_type": "call",
            "timestamp": f"2025-01-{day:02d}T00:00:00Z",
            "properties": {"user": "u1"},
        }

    p.ingest([call("a1", "A", 3), call("b1", "B", 3), call("z1", "legacy-b", 3)], loaded_at="2025-01-05T00:00:00Z")
    p.build(as_of="2025-01-06T00:00:00Z", data_tests=False)
    # (columns nothing downstream reads: unique_value of a count metric is unused)
    p.query("update main.int_events_deduplicated set source_file = 'kept'")
    p.query("update main.fct_event_outcomes set reason_detail = 'kept'")
    p.query("update main.int_metric_events set unique_value = 'kept' where billable_metric = 'calls'")
    p.query("update main.fct_usage_daily set group_values = 'kept'")
    # load 1's three counts (a1 metered, b1 no_active_contract, z1 unknown_customer), marked
    p.query("update main.fct_event_load_summary set event_count = event_count + 1000")
    assert _marker_rows(p) == {"dedup": 3, "outcomes": 3, "metric_events": 1, "daily": 2, "summary": 3}

    # a new load on another day: the earlier rows are kept as they are
    p.ingest([call("a2", "A", 4)], loaded_at="2025-01-06T00:00:00Z")
    p.build(as_of="2025-01-07T00:00:00Z", data_tests=False)
    assert _marker_rows(p) == {"dedup": 3, "outcomes": 3, "metric_events": 1, "daily": 2, "summary": 3}
    # ... and a load on the same day as a1: that day of kA is recomputed, the rest kept
    p.ingest([call("a3", "A", 3)], loaded_at="2025-01-07T00:00:00Z")
    p.build(as_of="2025-01-08T00:00:00Z", data_tests=False)
    assert _marker_rows(p) == {"dedup": 3, "outcomes": 3, "metric_events": 1, "daily": 0, "summary": 3}
    # loads 2 and 3 (a2, a3: one metered count each) marked too
    p.query("update main.fct_event_load_summary set event_count = event_count + 1000 where event_count < 1000")
    day3 = p.query(
        "select quantity from main.fct_usage_daily where contract_id = 'kA' and usage_date = '2025-01-03' "
        "and billable_metric = 'calls'"
    )
    assert [r["quantity"] for r in day3] == [2]

    # legacy-b becomes B's alias and kB starts Jan 1: the events of keys B and legacy-b are
    # recomputed (b1, z1 in outcomes); A's rows are kept; dedup is not about customers at all
    p.seeds(
        customers=CUSTOMERS_LATER,
        contracts=[CONTRACTS[0], {**CONTRACTS[1], "starting_at": "2025-01-01T00:00:00Z"}],
        **CATALOG,
    )
    p.build(as_of="2025-01-08T00:00:00Z", data_tests=False)
    # ... and load 1, which holds b1 and z1, is recounted whole (3 metered); loads 2 and 3 are kept
    assert _marker_rows(p) == {"dedup": 3, "outcomes": 1, "metric_events": 1, "daily": 0, "summary": 2}
    assert p.query("select event_count from main.fct_event_load_summary where event_count < 1000") == [
        {"event_count": 3}
    ]
    assert p.outcomes()["z1"] == ("metered", None)
    assert p.outcomes()["a1"] == ("metered", None)

    # the state the next build starts from
    state = {r["model_name"]: r for r in p.query("select * from main.billing_event_batches")}
    assert set(state) == set(EVENT_MODELS)
    assert {r["raw_rows_through_watermark"] for r in state.values()} == {5}

    # --full-refresh recomputes everything: every mark is gone
    p.build(as_of="2025-01-08T00:00:00Z", full_refresh=True, data_tests=False)
    assert _marker_rows(p) == {"dedup": 0, "outcomes": 0, "metric_events": 0, "daily": 0, "summary": 0}


EVENT_MODELS = (
    "int_events_deduplicated",
    "int_metric_events",
    "fct_event_outcomes",
    "int_usage_daily_partials",
    "fct_usage_daily",
    "fct_event_load_summary",
)


def _plans(p) -> dict[str, tuple[str, str]]:
    """model -> (decision, reason) of the newest build's plan (billing_build_plans, DECISIONLOG D44)."""
    rows = p.query(
        "select model_name, decision, reason from main.billing_build_plans where planned_at = "
        "(select max(planned_at) from main.billing_build_plans)"
    )
    return {r["model_name"]: (r["decision"], r["reason"]) for r in rows}


def test_the_plan_is_decided_once_per_build_by_plain_dbt_build(make_project):
    """Plain `dbt build` (the dbt command, no billing CLI) plans the event batches itself, once, in
    on-run-start, and raises DuckDB's checkpoint threshold when every event model is incremental
    (D89); a macro the event models use that changes what it does recomputes every event, a
    comment or layout tidy-up of it recomputes nothing (no version to bump by hand).

    The command runs in this process (dbtRunner: what the `dbt` executable runs, with its own parse
    and no manifest handed to it), not as a child process: the same command without a second
    interpreter importing dbt each time."""
    from dbt.cli.main import dbtRunner

    p = make_project().seeds(customers=CUSTOMERS, contracts=CONTRACTS, **CATALOG).metrics(METRICS)
    p.ingest(
        [
            {
                "transaction_id": "a1",
                "customer_id": "A",
                "event_type": "call",
                "timestamp": "2025-01-03T00:00:00Z",
                "properties": {"user": "u1"},
            }
        ],
        loaded_at="2025-01-05T00:00:00Z",
    )

    def plain_dbt_build():
        os.environ["BILLING_DB"] = str(p.db_path)
        result = dbtRunner().invoke(
            [
                *TEST_DBT_FLAGS,
                "--log-level",
                "warn",
                "build",
                "--project-dir",
                str(p.dir),
                "--profiles-dir",
                str(p.dir / "profiles"),
                "--vars",
                '{billing_as_of: "2025-01-06T00:00:00Z"}',
                "--exclude",
                "resource_type:test",  # the plan is what is checked; every other module runs the data tests
            ]
        )
        assert result.success, result.exception
        return _plans(p)

    def checkpoint_threshold() -> str:
        """The DuckDB instance's setting the build left (dbt-duckdb keeps the instance this process
        opened; D89: raised for a build whose event models are all incremental, else the default)."""
        return p.query("select current_setting('checkpoint_threshold') as t")[0]["t"]

    assert set(plain_dbt_build().values()) == {("full", "first build")}
    assert checkpoint_threshold() == "16.0 MiB"

    json_macros = p.dir / "macros" / "json.sql"
    original = json_macros.read_text()
    json_macros.write_text(
        original.replace("{% macro duckdb__json_get", "{#- a tidy-up -#}\n{% macro duckdb__json_get").replace(
            "    ", "        "
        )
    )
    # (and so does a build after no change at all): every event model appends the rows loaded since
    assert plain_dbt_build() == dict.fromkeys(EVENT_MODELS, ("incremental", "rows loaded after 2025-01-05 00:00:00"))
    assert checkpoint_threshold() == "953.6 MiB"  # 1GB (dbt_project.yml's incremental_checkpoint_threshold)
    assert p.query("select count(distinct invocation_id) as n from main.billing_build_plans")[0]["n"] == 2
    json_macros.write_text(
        original.replace(
            """json_extract_string({{ json_expr }}, '$."{{ key }}"')""",
            """json_extract_string(({{ json_expr }}), '$."{{ key }}"')""",
        )
    )
    plans = plain_dbt_build()
    assert {m: plans[m] for m in EVENT_MODELS if m != "int_events_deduplicated"} == dict.fromkeys(
        EVENT_MODELS[1:], ("full", "the model, a model it depends on or a macro they use changed")
    )
    assert checkpoint_threshold() == "16.0 MiB"  # one event model incremental, the others not: reset


def test_batch_consistency_test_catches_a_second_winner(make_project):
    """tests/dbt/assert_event_batch_is_consistent.sql looks at the last batch's ids, and finds their
    earlier copies anywhere: a second winning row for an old id fails it, and so do a metric match
    in the batch that does not come from a winning row of the batch, a match repeated, a match
    from another load than its winning row's, an outcome counting other matches than there are, and a
    stored transaction_key that is not its id's. A key collision does not make a new id a duplicate."""
    p = make_project().seeds(customers=CUSTOMERS, contracts=CONTRACTS, **CATALOG).metrics(METRICS)
    call = CALL
    p.ingest([call], loaded_at="2025-01-05T00:00:00Z")
    p.build(as_of="2025-01-06T00:00:00Z", data_tests=False)
    p.ingest([{**call, "transaction_id": "t2"}], loaded_at="2025-01-06T00:00:00Z")
    p.build(as_of="2025-01-07T00:00:00Z", data_tests=False)  # the test under test runs next, on its own
    assert p.build(select="assert_event_batch_is_consistent").success

    def caught(breaking: list[str], repairing: list[str], problem: str) -> None:
        """The test fails with `problem` once `breaking` ran, and passes again after `repairing`."""
        for sql in breaking:
            p.query(sql)
        result = p.build(select="assert_event_batch_is_consistent", expect_success=False)
        assert not result.success and problem in result.describe()
        for sql in repairing:
            p.query(sql)
        assert p.build(select="assert_event_batch_is_consistent").success

    # a metric match for t1 among the last batch's rows, where t1 has no winning row: t1 now matches
    # the metric twice (once per batch), which the batch-local check must see
    caught(
        [
            "insert into main.int_metric_events by name "
            "select * replace (cast('2025-01-06 00:00:00' as timestamp) as loaded_at) "
            "from main.int_metric_events where transaction_id = 't1'"
        ],
        [
            "delete from main.int_metric_events where transaction_id = 't1' "
            "and loaded_at = cast('2025-01-06 00:00:00' as timestamp)"
        ],
        "transaction_id=t1, problem=matches a metric but its row is not the winning copy",
    )
    # a winner for t1 among the rows of the last batch: t1 now has two winners
    caught(
        [
            "insert into main.int_events_deduplicated by name "
            "select * replace (cast('2025-01-06 12:00:00' as timestamp) as loaded_at) "
            "from main.int_events_deduplicated where transaction_id = 't1'"
        ],
        [
            "delete from main.int_events_deduplicated where transaction_id = 't1' "
            "and loaded_at = cast('2025-01-06 12:00:00' as timestamp)"
        ],
        "transaction_id=t1, problem=transaction_id has 2 winning rows",
    )
    # t2 matches the metric twice within the batch (its match repeated)
    caught(
        ["insert into main.int_metric_events by name select * from main.int_metric_events where transaction_id = 't2'"],
        [
            "create table main.t2_matches as select distinct * from main.int_metric_events where transaction_id = 't2'",
            "delete from main.int_metric_events where transaction_id = 't2'",
            "insert into main.int_metric_events by name select * from main.t2_matches",
            "drop table main.t2_matches",
        ],
        "transaction_id=t2, problem=matches metric users more than once",
    )
    # t2's match from another load of the batch than its winning row's
    caught(
        [
            "update main.int_metric_events set loaded_at = cast('2025-01-06 06:00:00' as timestamp) "
            "where transaction_id = 't2'"
        ],
        [
            "update main.int_metric_events set loaded_at = cast('2025-01-06 00:00:00' as timestamp) "
            "where transaction_id = 't2'"
        ],
        "transaction_id=t2, problem=matches a metric but its row is not the winning copy",
    )
    # fct_event_outcomes counts t2's metrics (calls, users) itself (int_event_metric_checks): it must agree
    caught(
        ["update main.fct_event_outcomes set matched_metrics = 3 where transaction_id = 't2'"],
        ["update main.fct_event_outcomes set matched_metrics = 2 where transaction_id = 't2'"],
        "problem=fct_event_outcomes counts 3 metric matches in the batch where int_metric_events has 2",
    )
    # t2's stored key is not its id's (later copies of t2 would not find it, DECISIONLOG D85)
    caught(
        ["update main.int_events_deduplicated set transaction_key = transaction_key + 1 where transaction_id = 't2'"],
        ["update main.int_events_deduplicated set transaction_key = hash(transaction_id) where transaction_id = 't2'"],
        "transaction_id=t2, problem=transaction_key is not the key of its transaction_id",
    )

    # keys are compared, then ids: a new id whose key an earlier, other id holds (a hash collision,
    # made here by giving t1's row t3's key) is not a copy of it; a copy of t2 still is
    p.query("update main.int_events_deduplicated set transaction_key = hash('t3') where transaction_id = 't1'")
    p.ingest(
        [{**call, "transaction_id": "t3"}, {**call, "transaction_id": "t2", "properties": {"user": "u9"}}],
        loaded_at="2025-01-07T00:00:00Z",
    )
    assert p.build(as_of="2025-01-08T00:00:00Z").success  # with the consistency test
    verdicts = p.query(
        "select transaction_id, is_duplicate, load_rank from main.int_events_deduplicated "
        "where loaded_at = cast('2025-01-07 00:00:00' as timestamp) order by transaction_id"
    )
    assert verdicts == [
        {"transaction_id": "t2", "is_duplicate": True, "load_rank": 2},
        {"transaction_id": "t3", "is_duplicate": False, "load_rank": 1},
    ]


def test_a_dedup_table_built_before_the_transaction_key_gains_it(make_project):
    """DECISIONLOG D85: int_events_deduplicated gained transaction_key. A database built before has a
    dedup table without it (the column is dropped here) and older code versions recorded (set
    here): the next build adds the column before the model's SQL reads it, recomputes the event
    models in full, so every row holds its id's key, and a copy of an earlier id is a duplicate."""
    p = make_project().seeds(customers=CUSTOMERS, contracts=CONTRACTS, **CATALOG).metrics(METRICS)
    call = CALL
    p.ingest([call, {**call, "transaction_id": "t2"}], loaded_at="2025-01-05T00:00:00Z")
    p.build(as_of="2025-01-06T00:00:00Z", data_tests=False)
    p.query("alter table main.int_events_deduplicated drop column transaction_key")
    p.query("update main.billing_event_batches set code_version = 'built before D85'")

    p.ingest(
        [{**call, "properties": {"user": "u2"}}, {**call, "transaction_id": "t3"}], loaded_at="2025-01-06T00:00:00Z"
    )
    p.build(as_of="2025-01-07T00:00:00Z")  # the data tests included
    last_plans = (
        "select distinct decision, reason from main.billing_build_plans "
        "where planned_at = (select max(planned_at) from main.billing_build_plans)"
    )
    assert p.query(last_plans) == [
        {"decision": "full", "reason": "the model, a model it depends on or a macro they use changed"}
    ]
    rows = p.query(
        "select transaction_id, is_duplicate, transaction_key = hash(transaction_id) as keyed "
        "from main.int_events_deduplicated order by loaded_at, transaction_id"
    )
    assert rows == [
        {"transaction_id": "t1", "is_duplicate": False, "keyed": True},
        {"transaction_id": "t2", "is_duplicate": False, "keyed": True},
        {"transaction_id": "t1", "is_duplicate": True, "keyed": True},
        {"transaction_id": "t3", "is_duplicate": False, "keyed": True},
    ]

    # and the build after it is incremental again, finding t3's copy by its key
    p.ingest([{**call, "transaction_id": "t3", "properties": {"user": "u3"}}], loaded_at="2025-01-07T00:00:00Z")
    p.build(as_of="2025-01-08T00:00:00Z")
    assert [row["decision"] for row in p.query(last_plans)] == ["incremental"]
    assert p.query(
        "select is_duplicate, load_rank from main.int_events_deduplicated "
        "where loaded_at = cast('2025-01-07 00:00:00' as timestamp)"
    ) == [{"is_duplicate": True, "load_rank": 2}]
