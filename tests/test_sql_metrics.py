"""SQL billable metrics: scoped to each customer and rate segment by the compiler, billed like any
metric, and unable to read or write anything outside `events`."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import BillingTestProject, D
from yaml import safe_dump as yaml_dump

from billing_cli.errors import BillingError
from billing_cli.metrics import compile_metrics, load_metrics

METRICS = """
billable_metrics:
  - name: active_users
    sql: >
      select count(distinct properties.user_id) as value
      from events
      where event_type = 'login' and properties.env <> 'test'
  - name: gb_hours
    sql: select sum(cast(properties.gb as decimal(20, 4)) * 2) as value from events where event_type = 'storage'
  # issue #16: quotes and backslashes in literals (on Spark, \' is a quote and 'O''Reilly' reads as OReilly)
  - name: oreilly_sales
    event_type: "publisher's sale"
    aggregation: count
    filters:
      - {property: publisher, in: ["O'Reilly"]}
  - name: injected_sales
    event_type: "publisher's sale"
    aggregation: count
    filters:
      - {property: publisher, in: ["\\\\' ) or 1=1 or p in ('') --"]}
  - name: oreilly_sql_sales
    sql: >
      select count(*) as value from events
      where event_type = 'publisher''s sale' and properties.publisher in ('O''Reilly', 'C:\\temp\\')
  # issue #20: group-key columns place each event in its pricing and presentation groups
  - name: calls
    sql: >
      select properties.region as region, count(*) as value from events
      where event_type = 'call' group by properties.region
  - name: callers
    sql: >
      select upper(properties.region) as region, count(distinct properties.user_id) as value from events
      where event_type = 'call' group by region
"""
GROUPED_PRODUCTS = {"calls", "calls_by_region", "callers", "callers_default"}
INJECTION = "\\' ) or 1=1 or p in ('') --"


AS_OF = "2025-02-05T00:00:00Z"


def prepare(p) -> str:
    """SQL metrics: a catalog and usage; returns the as-of instant to build at.
    (tests/test_spark_parity.py builds it on Spark too.)"""
    p.seeds(
        customers=[{"customer_id": "c1", "name": "One"}, {"customer_id": "c2", "name": "Two"}],
        products=[
            {"product_id": "users", "name": "Users", "type": "USAGE", "billable_metric": "active_users"},
            {"product_id": "storage", "name": "Storage", "type": "USAGE", "billable_metric": "gb_hours"},
            *[
                {"product_id": m, "name": m, "type": "USAGE", "billable_metric": m}
                for m in ("oreilly_sales", "injected_sales", "oreilly_sql_sales")
            ],
            # issue #20: priced per region; split per region (one price); distinct callers per region,
            # with and without a default rate
            *[
                {
                    "product_id": product_id,
                    "name": product_id,
                    "type": "USAGE",
                    "billable_metric": metric,
                    f"{role}_group_key": ["region"],
                }
                for product_id, metric, role in [
                    ("calls", "calls", "pricing"),
                    ("calls_by_region", "calls", "presentation"),
                    ("callers", "callers", "pricing"),
                    ("callers_default", "callers", "pricing"),
                ]
            ],
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            {
                "rate_card_id": "rc",
                "product_id": "users",
                "starting_at": "2025-01-01",
                "ending_before": "2025-01-15",
                "rate_type": "FLAT",
                "price": "2",
            },
            {
                "rate_card_id": "rc",
                "product_id": "users",
                "starting_at": "2025-01-15",
                "rate_type": "FLAT",
                "price": "3",
            },
            {
                "rate_card_id": "rc",
                "product_id": "storage",
                "starting_at": "2025-01-01",
                "rate_type": "FLAT",
                "price": "0.5",
            },
            *[
                {"rate_card_id": "rc", "product_id": m, "starting_at": "2025-01-01", "rate_type": "FLAT", "price": "1"}
                for m in ("oreilly_sales", "injected_sales", "oreilly_sql_sales", "calls_by_region")
            ],
            *[
                {
                    "rate_card_id": "rc",
                    "product_id": product_id,
                    "starting_at": "2025-01-01",
                    "rate_type": "FLAT",
                    "price": price,
                    "pricing_group_values": None if region is None else {"region": region},
                }
                for product_id, region, price in [
                    ("calls", "us", "1.00"),
                    ("calls", "eu", "2.00"),
                    ("calls", None, "0.50"),
                    ("callers", "US", "5"),
                    ("callers", "EU", "7"),
                    ("callers_default", "US", "5"),
                    ("callers_default", None, "1"),
                ]
            ],
        ],
        contracts=[
            {"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"},
            {"contract_id": "k2", "customer_id": "c2", "rate_card_id": "rc", "starting_at": "2025-01-01"},
        ],
    ).metrics(METRICS)

    def login(tid, customer, day, user, env="prod"):
        return {
            "transaction_id": tid,
            "customer_id": customer,
            "event_type": "login",
            "timestamp": f"2025-01-{day:02d}T10:00:00Z",
            "properties": {"user_id": user, "env": env},
        }

    p.ingest(
        [
            login("a", "c1", 2, "u1"),
            login("b", "c1", 3, "u1"),
            login("c", "c1", 4, "u2"),  # segment 1: 2 users
            login("d", "c1", 20, "u1"),  # segment 2: 1 user
            login("e", "c1", 21, "u9", env="test"),  # filtered out
            login("f", "c2", 2, "u1"),
            login("g", "c2", 3, "u3"),
            login("h", "c2", 4, "u4"),  # c2: 3 users
            {
                "transaction_id": "s1",
                "customer_id": "c1",
                "event_type": "storage",
                "timestamp": "2025-01-05T00:00:00Z",
                "properties": {"gb": "1.25"},
            },
            {
                "transaction_id": "s2",
                "customer_id": "c1",
                "event_type": "storage",
                "timestamp": "2025-01-06T00:00:00Z",
                "properties": {"gb": "lots"},
            },  # try_cast: not a number, counts as nothing
            *[
                {
                    "transaction_id": tid,
                    "customer_id": "c1",
                    "event_type": "publisher's sale",
                    "timestamp": f"2025-01-{day:02d}T12:00:00Z",
                    "properties": {"publisher": publisher},
                }
                for tid, day, publisher in [
                    ("o1", 7, "O'Reilly"),
                    ("o2", 8, "O'Reilly"),
                    ("o3", 9, "OReilly"),
                    ("o4", 10, "O\\'Reilly"),
                    ("o5", 11, "C:\\temp\\"),
                    ("o6", 12, "Manning"),
                ]
            ],
            *[
                {
                    "transaction_id": tid,
                    "customer_id": "c1",
                    "event_type": "call",
                    "timestamp": f"2025-01-{day:02d}T09:00:00Z",
                    "properties": {"user_id": user, **({} if region is None else {"region": region})},
                }
                for tid, day, region, user in [
                    ("r1", 2, "us", "u1"),
                    ("r2", 3, "us", "u1"),
                    ("r3", 4, "us", "u2"),
                    ("r4", 5, "eu", "u1"),
                    ("r5", 6, "eu", "u3"),
                    ("r6", 7, "ap", "u4"),
                    ("r7", 8, None, "u1"),
                ]
            ],
        ]
    )
    return AS_OF


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> BillingTestProject:
    """prepare()'s catalog and events, built once for the two tests that read it."""
    p = BillingTestProject(tmp_path_factory.mktemp("sql_metrics"))
    p.build(as_of=prepare(p))
    return p


def test_sql_metric_scoped_per_customer_and_segment(prepared):
    p = prepared
    lines = {
        (r["contract_id"], r["product_id"], r["starting_at"]): (r["quantity"], r["amount"])
        for r in p.lines()
        if r["product_id"] not in GROUPED_PRODUCTS
    }
    # distinct users per customer and segment: c1 [Jan 1, 15) u1, u2 = 2 x 2 = 4.00; [Jan 15, Feb 1) u1 = 1 x 3;
    # c2 [Jan 1, 15) 3 users x 2 = 6.00. gb_hours: 1.25 x 2 = 2.5 x 0.5 = 1.25
    # issue #16: O'Reilly's two sales, and C:\temp\ for the SQL metric; the injection text matches nothing
    assert lines == {
        ("k1", "users", datetime(2025, 1, 1)): (D(2), D("4.00")),
        ("k1", "users", datetime(2025, 1, 15)): (D(1), D("3.00")),
        ("k2", "users", datetime(2025, 1, 1)): (D(3), D("6.00")),
        ("k1", "storage", datetime(2025, 1, 1)): (D("2.5"), D("1.25")),
        ("k1", "oreilly_sales", datetime(2025, 1, 1)): (D(2), D("2.00")),
        ("k1", "oreilly_sql_sales", datetime(2025, 1, 1)): (D(3), D("3.00")),
    }
    outcomes = p.outcomes()
    assert outcomes["a"] == ("metered", None) and outcomes["e"] == ("unmetered", None)
    matches = {
        (r["billable_metric"], r["transaction_id"])
        for r in p.query(
            "select billable_metric, transaction_id from main.int_metric_events where transaction_id like 'o%'"
        )
    }
    assert matches == {
        ("oreilly_sales", "o1"),
        ("oreilly_sales", "o2"),
        ("oreilly_sql_sales", "o1"),
        ("oreilly_sql_sales", "o2"),
        ("oreilly_sql_sales", "o5"),
    }
    assert [outcomes[t][0] for t in ("o3", "o4", "o6")] == ["unmetered"] * 3  # OReilly, O\'Reilly, Manning
    daily = {
        (r["contract_id"], r["usage_date"], r["billable_metric"]): (r["quantity"], r["event_count"])
        for r in p.query("select * from main.fct_usage_daily")
    }
    assert daily[("k1", date(2025, 1, 3), "active_users")] == (D(1), 1)
    assert daily[("k2", date(2025, 1, 4), "active_users")] == (D(1), 1)


def test_sql_metric_group_keys_choose_pricing_and_presentation_groups(prepared):
    # issue #20, DECISIONLOG D23. Calls in January (c1): us r1 u1, r2 u1, r3 u2; eu r4 u1, r5 u3;
    # ap r6 u4; no region r7 u1.
    p = prepared
    lines = {
        (r["product_id"], r["pricing_group_values"], r["presentation_group_values"]): (
            r["quantity"],
            r["unit_price"],
            r["amount"],
        )
        for r in p.lines()
        if r["product_id"] in GROUPED_PRODUCTS
    }
    assert lines == {
        # the example: us 3 x 1.00 + eu 2 x 2.00 = 7.00; ap and no region have no rate of
        # their own: the default rate, 2 x 0.50 = 1.00
        ("calls", '{"region":"us"}', None): (D(3), D("1.00"), D("3.00")),
        ("calls", '{"region":"eu"}', None): (D(2), D("2.00"), D("4.00")),
        ("calls", None, None): (D(2), D("0.50"), D("1.00")),
        # one price, a line per region (the group-key column is a presentation key)
        ("calls_by_region", None, '{"region":"us"}'): (D(3), D(1), D("3.00")),
        ("calls_by_region", None, '{"region":"eu"}'): (D(2), D(1), D("2.00")),
        ("calls_by_region", None, '{"region":"ap"}'): (D(1), D(1), D("1.00")),
        ("calls_by_region", None, '{"region":null}'): (D(1), D(1), D("1.00")),
        # distinct callers by upper(region): US u1, u2 = 2 x 5 = 10.00; EU u1, u3 = 2 x 7 = 14.00;
        # AP and no region: no default rate, not billed
        ("callers", '{"region":"US"}', None): (D(2), D(5), D("10.00")),
        ("callers", '{"region":"EU"}', None): (D(2), D(7), D("14.00")),
        # the default line counts distinct callers over all its events: EU u1, u3, AP u4, none u1
        # = 3 (not 2 + 1 + 1) x 1 = 3.00
        ("callers_default", '{"region":"US"}', None): (D(2), D(5), D("10.00")),
        ("callers_default", None, None): (D(3), D(1), D("3.00")),
    }
    daily = {
        (r["usage_date"], r["billable_metric"], r["group_values"]): r["quantity"]
        for r in p.query("select * from main.fct_usage_daily where billable_metric in ('calls', 'callers')")
    }
    assert daily[(date(2025, 1, 4), "calls", '{"region":"us"}')] == D(1)
    assert daily[(date(2025, 1, 8), "callers", '{"region":null}')] == D(1)
    assert len(daily) == 14


def test_sql_metric_group_key_must_be_a_key_of_its_products(make_project):
    p = make_project()
    prepare(p)
    p.seeds(
        products=[
            {"product_id": "calls", "name": "Calls", "type": "USAGE", "billable_metric": "calls"},
            {
                "product_id": "callers",
                "name": "Callers",
                "type": "USAGE",
                "billable_metric": "callers",
                "pricing_group_key": ["region"],
            },
        ],
        rate_card_rates=[
            {"rate_card_id": "rc", "product_id": m, "starting_at": "2025-01-01", "rate_type": "FLAT", "price": "1"}
            for m in ("calls", "callers")
        ],
    )
    text = "\n".join(p.build(as_of=AS_OF, expect_success=False).problems)
    assert (
        "seed=products.csv, row_key=calls, problem=billable metric calls is a SQL metric grouped by region, "
        "which is not in the pricing_group_key or presentation_group_key of product calls"
    ) in text
    assert "row_key=callers" not in text


@pytest.mark.parametrize(
    "sql, problem",
    [
        ("drop table events", "must be a SELECT, got DROP"),
        ("delete from events", "must be a SELECT"),
        ("insert into events select * from events", "must be a SELECT"),
        ("copy (select 1) to '/tmp/x.csv'", "must be a SELECT"),
        ("select count(*) as value from events; select 1 as value from events", "exactly one statement"),
        ("select count(*) as value from customers", "may read only the table events"),
        ("select count(*) as value from main.events", "may read only the table events"),
        ("select count(*) as value from read_csv('/etc/passwd')", "may read only the table events"),
        ("select count(*) as value from events where event_type in (select name from secrets)", "may not"),
        ("select count(*) as value from events join users on true", "may not use JOIN"),
        ("with x as (select 1) select count(*) as value from events", "may not use WITH"),
        ("select read_text('/etc/passwd') as value from events", "may not use"),
        ("select getenv('HOME') as value from events", "may not use"),
        ("select count(*) as total from events", "must return a column named value"),
        ("select count(*) as value, properties.m as m from events", "group key m must be in GROUP BY"),
        # issue #20: a row of values is told apart by its group keys, which are values of each event
        ("select count(*) as value from events group by properties.m", "groups by properties.m, which is not"),
        ("select count(*) as value, properties.m as m from events group by 2", "groups by 2, which is not"),
        (
            "select count(*) as value, properties.m as contract_id from events group by properties.m",
            "group key contract_id is a column the compiler adds",
        ),
        ("select count(*) as value, count(*) as m from events group by m", "group key m may not aggregate"),
        (
            "select count(*) as value, properties.m as m from events group by m having properties.m = 'x'",
            "HAVING may read events only inside aggregates",
        ),
        ("select count(*) as value from events where user_id = 1", "is not event_type, timestamp or properties"),
        ("select row_number() over () as value from events", "may not"),
        ('select count(*) as value from events where properties."a\'b" = 1', "property name"),
        ("select count(*) as value from events where event_type = '{{ x }}'", "may not contain"),
    ],
)
def test_sql_metric_cannot_reach_outside_events(tmp_path, sql, problem):
    path = tmp_path / "billable_metrics.yml"
    path.write_text("billable_metrics:\n  - name: bad\n    sql: " + repr(sql).replace("\\'", "''") + "\n")
    with pytest.raises(BillingError, match="metric 'bad'") as error:
        compile_metrics(load_metrics(path))
    assert problem in str(error.value)


def test_generated_sql_reads_only_the_events_model(tmp_path):
    path = tmp_path / "billable_metrics.yml"
    path.write_text(METRICS)
    files = compile_metrics(load_metrics(path)).files
    for rel, content in files.items():
        if "active_users" in rel.name:
            refs = set(__import__("re").findall(r"ref\('([a-z_]+)'\)", content))
            assert refs <= {
                "int_events_attributed",
                "int_events_to_meter",
                "int_usage_rate_segments",
                "stg_products",
                "int_periods_to_rate",
                "int_event_group_values",
            }, (rel, refs)


@pytest.mark.parametrize(
    "sql, problem",
    [
        # a quoted unknown type is written back verbatim by the generator: refused before that
        (
            "select sum(cast(properties.x as \"integral)) * 0 + (select length(content) from read_text('/etc/passwd')) "
            '+ count((1")) as value from events',
            "may not cast to",
        ),
        (
            "select sum(cast(properties.x as decimal(20, x))) as value from events",
            "type parameters must be whole numbers",
        ),
        ("select properties.x as value from events", "value must aggregate the events"),
    ],
)
def test_review_findings_are_refused(tmp_path, sql, problem):
    path = tmp_path / "billable_metrics.yml"
    path.write_text(yaml_dump({"billable_metrics": [{"name": "bad", "sql": sql}]}))
    with pytest.raises(BillingError, match="metric 'bad'") as error:
        compile_metrics(load_metrics(path))
    assert problem in str(error.value)


def test_literals_are_the_engines_string_literal_macro(tmp_path):
    # issue #16: the compiler quotes no text itself; DuckDB and Spark escape differently (DECISIONLOG D49)
    path = tmp_path / "billable_metrics.yml"
    path.write_text(METRICS)
    files = {rel.name: content for rel, content in compile_metrics(load_metrics(path)).files.items()}
    sql_metric = files["int_metric_values__oreilly_sql_sales.sql"]
    assert (
        "where event_type = {{ billing.string_literal('publisher\\'s sale') }} and "
        "{{ billing.json_get('properties', 'publisher') }} in ({{ billing.string_literal('O\\'Reilly') }}, "
        "{{ billing.string_literal('C:\\\\temp\\\\') }})"
    ) in sql_metric
    assert "where billable_metric = {{ billing.string_literal('oreilly_sql_sales') }}" in sql_metric
    injected = files["int_metric_events__injected_sales.sql"]
    assert "{{ billing.string_literal('" + INJECTION.replace("\\", "\\\\").replace("'", "\\'") + "') }}" in injected
    assert injected.count("1=1") == 1  # inside that one literal
