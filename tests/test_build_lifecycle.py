"""Statuses against billing_as_of and the grace period, empty projects, and bad configuration."""

from __future__ import annotations

import warnings
from datetime import datetime

from conftest import D

from billing_cli.db import connect
from billing_cli.names import CREATE_RAW

CATALOG = {
    "customers": [{"customer_id": "c1", "name": "One"}],
    "products": [{"product_id": "p1", "name": "Calls", "type": "USAGE", "billable_metric": "calls"}],
    "rate_cards": [{"rate_card_id": "rc", "name": "List"}],
    "rate_card_rates": [
        {"rate_card_id": "rc", "product_id": "p1", "starting_at": "2025-01-01", "rate_type": "FLAT", "price": "0.5"}
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
METRICS = "billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n"


def statuses(project):
    return {r["period_starting_at"]: r["status"] for r in project.invoices() if r["invoice_type"] == "USAGE"}


def test_status_follows_as_of_and_grace_period(make_project):
    def project():
        p = make_project().seeds(**CATALOG).metrics(METRICS)
        p.ingest(
            [
                {
                    "transaction_id": "t1",
                    "customer_id": "c1",
                    "event_type": "call",
                    "timestamp": "2025-01-15T00:00:00Z",
                    "properties": {},
                }
            ],
            loaded_at="2025-01-16T00:00:00Z",
        )
        return p

    jan, feb = datetime(2025, 1, 1), datetime(2025, 2, 1)
    # one second before the 24 h grace after the Feb 1 period end: still a draft; Feb has started.
    # The as-of carries an offset, which is honoured: 00:59:59+01:00 is Feb 1 23:59:59 UTC (read
    # without its offset, Feb 2 00:59:59, January would be final and stored)
    p = project()
    p.build(as_of="2025-02-02T00:59:59+01:00", data_tests=False)
    assert statuses(p) == {jan: "DRAFT", feb: "DRAFT"}
    # at period end + 24 h it is final
    p.build(as_of="2025-02-02T00:00:00Z", data_tests=False)
    assert statuses(p) == {jan: "FINALIZED", feb: "DRAFT"}
    # (final invoices are stored: they stay final, whatever a later build's as_of)
    p.build(as_of="2024-12-31T23:59:59Z")
    assert statuses(p) == {jan: "FINALIZED"}
    assert [r["total"] for r in p.invoices() if r["period_starting_at"] == jan] == [D("0.50")]
    # before Jan 1 nothing has started; with no grace, January is final at the period end itself
    p = project()
    p.build(as_of="2024-12-31T23:59:59Z", data_tests=False)
    assert statuses(p) == {}
    p.build(as_of="2025-02-01T00:00:00Z", extra_vars={"invoice_grace_period_hours": 0})
    assert statuses(p) == {jan: "FINALIZED", feb: "DRAFT"}


def test_builds_are_idempotent(make_project):
    p = (
        make_project()
        .seeds(
            **CATALOG,
            contract_credits=[
                {"credit_id": "cr", "contract_id": "k1", "amount": "5", "access_starting_at": "2025-01-01"}
            ],
        )
        .metrics(METRICS)
    )
    p.ingest(
        [
            {
                "transaction_id": f"t{i}",
                "customer_id": "c1",
                "event_type": "call",
                "timestamp": f"2025-01-{i:02d}T00:00:00Z",
                "properties": {},
            }
            for i in range(1, 20)
        ]
    )

    def snapshot():
        return {
            table: p.query(f"select md5(string_agg(t::varchar, '|' order by t::varchar)) as h from main.{table} t")[0][
                "h"
            ]
            for table in (
                "fct_invoices",
                "fct_invoice_line_items",
                "fct_usage_daily",
                "fct_event_outcomes",
                "fct_event_load_summary",
                "fct_balance_ledger",
                "fct_balances",
                "finalized_invoices",
                "finalized_invoice_line_items",
                "finalized_balance_drawdowns",
            )
        }

    p.build(as_of="2025-03-01T00:00:00Z", data_tests=False)
    first = snapshot()
    assert all(first.values()), first  # every table has rows
    p.build(as_of="2025-03-01T00:00:00Z")
    assert snapshot() == first
    assert p.invoices()[0]["total"] == D("4.50")  # 19 calls x 0.50 - the 5.00 credit


def test_empty_project_builds(make_project, tmp_path):
    """No events ingested, no metrics, header-only seeds: the build creates raw.usage_events and succeeds,
    and so does the next, incremental, build (a project's first days: int_metric_events with no metric
    still deletes its batch by changed keys, so it must depend on int_event_batch_key_changes).

    One declaration of raw.usage_events (the dbt source's columns with data_type and storage hints):
    the table `billing ingest` creates and the one on-run-start creates for a plain `dbt build` are
    identical."""
    p = make_project()
    p.build()
    assert p.query("select count(*) as n from main.fct_invoices")[0]["n"] == 0
    assert p.query("select count(*) as n from raw.usage_events")[0]["n"] == 0
    ours = connect(tmp_path / "ingest.duckdb")
    ours.execute(CREATE_RAW)
    describe = (
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'usage_events' order by ordinal_position"
    )
    assert ours.execute(describe).fetchall() == [tuple(r.values()) for r in p.query(describe)]
    assert len(ours.execute(describe).fetchall()) == 9
    # and the same storage hints (D94): the two columns unique per event are stored uncompressed
    ddl = "select sql from duckdb_tables() where schema_name = 'raw' and table_name = 'usage_events'"
    assert ours.execute(ddl).fetchone()[0] == p.query(ddl)[0]["sql"]
    assert ours.execute(ddl).fetchone()[0].count("USING COMPRESSION Uncompressed") == 2
    ours.close()
    p.ingest(
        [
            {
                "transaction_id": "t1",
                "customer_id": "nobody",
                "event_type": "call",
                "timestamp": "2025-01-02T00:00:00Z",
                "properties": {},
            }
        ],
        loaded_at="2025-01-02T01:00:00Z",
    )
    p.build()
    assert p.outcomes()["t1"][0] == "rejected"


def test_bad_configuration_names_seed_row_and_problem(make_project):
    p = (
        make_project()
        .seeds(
            customers=[
                {"customer_id": "c1", "name": "One", "ingest_aliases": ["shared"]},
                {"customer_id": "c2", "name": "Two", "ingest_aliases": ["shared"]},
                {"customer_id": "c3", "name": "Three", "ingest_aliases": "not-a-list"},
            ],
            products=[
                {"product_id": "p1", "name": "Calls", "type": "USAGE", "billable_metric": "calls"},
                {"product_id": "p2", "name": "Ghost", "type": "USAGE", "billable_metric": "nope"},
                {"product_id": "p3", "name": "Odd", "type": "WEIRD", "pricing_group_key": ["model"]},
            ],
            rate_cards=[{"rate_card_id": "rc", "name": "List"}],
            rate_card_rates=[
                {
                    "rate_card_id": "rc",
                    "product_id": "p1",
                    "starting_at": "2025-01-01",
                    "rate_type": "FLAT",
                    "price": "-1",
                },
                {
                    "rate_card_id": "rc",
                    "product_id": "p1",
                    "starting_at": "2025-01-15",
                    "rate_type": "FLAT",
                    "price": "1",
                },
                {"rate_card_id": "rc", "product_id": "p9", "starting_at": "someday", "rate_type": "FLAT", "price": "1"},
                # an empty required reference is named too (trim(null) not in (...) is null, not true)
                {"rate_card_id": "rc", "starting_at": "2025-01-01", "rate_type": "FLAT", "price": "1"},
                # malformed JSON in a group-values column is a problem of its row, not a query error
                {
                    "rate_card_id": "rc",
                    "product_id": "p3",
                    "starting_at": "2025-06-01",
                    "rate_type": "FLAT",
                    "price": "1",
                    "pricing_group_values": "{not json",
                },
            ],
            contracts=[
                {"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"},
                {"contract_id": "k2", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-03-01"},
                {
                    "contract_id": "k3",
                    "customer_id": "c9",
                    "rate_card_id": "rc",
                    "starting_at": "2025-01-01",
                    "usage_statement_frequency": "WEEKLY",
                },
                {"contract_id": "k4", "rate_card_id": "rc", "starting_at": "2025-01-01"},
            ],
            contract_scheduled_charges=[
                {"scheduled_charge_id": "s_early", "contract_id": "k1", "timestamp": "2024-12-01", "amount": "1"}
            ],
        )
        .metrics(METRICS)
    )
    result = p.build(as_of="2025-03-01T00:00:00Z", expect_success=False)
    assert not result.success
    text = "\n".join(result.problems)
    expected = [
        "seed=customers.csv, row_key=c1, problem=ingest alias shared belongs to another customer too",
        "seed=customers.csv, row_key=c3, problem=ingest_aliases is not a JSON list of strings",
        "seed=products.csv, row_key=p2, problem=billable_metric 'nope' is not defined in billable_metrics.yml",
        "seed=products.csv, row_key=p3, problem=type must be USAGE, SUBSCRIPTION, COMPOSITE or FIXED",
        "seed=rate_card_rates.csv, row_key=rc/p1/2025-01-01, problem=price is not a non-negative number",
        "seed=rate_card_rates.csv, row_key=rc/p1/2025-01-01 00:00:00.000000, problem=overlaps the rate starting 2025-01-15",
        "seed=rate_card_rates.csv, row_key=rc/p9/someday, problem=product_id is not in products",
        "seed=rate_card_rates.csv, row_key=rc/p9/someday, problem=starting_at is missing or not a valid timestamp",
        "seed=contracts.csv, row_key=k1, problem=overlaps contract k2 of the same customer",
        "seed=contracts.csv, row_key=k3, problem=customer_id is not in customers",
        "seed=contracts.csv, row_key=k4, problem=customer_id is not in customers",
        "seed=rate_card_rates.csv, row_key=rc//2025-01-01, problem=product_id is not in products",
        "seed=contracts.csv, row_key=k3, problem=usage_statement_frequency must be MONTHLY, QUARTERLY or ANNUAL",
        "seed=contract_scheduled_charges.csv, row_key=s_early, problem=timestamp is outside its contract",
    ]
    missing = [e for e in expected if e not in text]
    assert not missing, f"missing from:\n{text}"
    assert any(
        "row_key=rc/p3/2025-06-01" in line and "problem=pricing_group_values is not a JSON object" in line
        for line in text.splitlines()
    ), text
    # one failing check, and nothing downstream of the catalog was built
    assert "assert_catalog_has_no_problems" in text
    assert len(result.problems) == 1
    assert p.query("select count(*) as n from information_schema.tables where table_name = 'fct_invoices'")[0]["n"] == 0


def test_review_regressions(make_project):
    """Sub-second timestamps keep ids apart; an alias may equal its own customer id; an empty
    product_tags list means none; a bad billing_as_of fails the build instead of billing nothing."""
    p = (
        make_project()
        .seeds(
            customers=[{"customer_id": "c1", "name": "One", "ingest_aliases": ["c1", "one@example.com"]}],
            products=[
                {"product_id": "p1", "name": "Calls", "type": "USAGE", "billable_metric": "calls"},
                {"product_id": "fee", "name": "Fee", "type": "FIXED"},
            ],
            rate_cards=CATALOG["rate_cards"],
            rate_card_rates=[
                {
                    "rate_card_id": "rc",
                    "product_id": "p1",
                    "starting_at": "2025-01-01",
                    "ending_before": "2025-01-15T10:00:00.900Z",
                    "rate_type": "FLAT",
                    "price": "0.5",
                },
                {
                    "rate_card_id": "rc",
                    "product_id": "p1",
                    "starting_at": "2025-01-15T10:00:00.900Z",
                    "rate_type": "FLAT",
                    "price": "1",
                },
            ],
            contracts=CATALOG["contracts"],
            contract_overrides=[
                {
                    "override_id": "o_mult",
                    "contract_id": "k1",
                    "starting_at": "2025-01-15T10:00:00.100Z",
                    "product_id": "p1",
                    "type": "MULTIPLIER",
                    "multiplier": "2",
                },
                {
                    "override_id": "o_off",
                    "contract_id": "k1",
                    "starting_at": "2025-01-20T00:00:00Z",
                    "product_id": "p1",
                    "product_tags": [],
                    "entitled": False,
                },
            ],
            contract_scheduled_charges=[
                {
                    "scheduled_charge_id": "s1",
                    "contract_id": "k1",
                    "product_id": "fee",
                    "timestamp": "2025-01-10T10:00:00.2Z",
                    "amount": "5",
                },
                {
                    "scheduled_charge_id": "s2",
                    "contract_id": "k1",
                    "product_id": "fee",
                    "timestamp": "2025-01-10T10:00:00.7Z",
                    "amount": "7",
                },
            ],
        )
        .metrics(METRICS)
    )
    p.ingest(
        [
            {
                "transaction_id": f"t{d}",
                "customer_id": "one@example.com" if d == 2 else "c1",
                "event_type": "call",
                "timestamp": f"2025-01-{d:02d}T12:00:00Z",
                "properties": {},
            }
            for d in (2, 16, 21)
        ]
    )
    p.build(as_of="2025-03-01T00:00:00Z")
    scheduled = sorted(r["total"] for r in p.invoices() if r["invoice_type"] == "SCHEDULED")
    assert scheduled == [D("5.00"), D("7.00")]
    usage = {r["starting_at"]: (r["unit_price"], r["amount"]) for r in p.lines() if r["line_type"] == "usage"}
    # Jan 2 at 0.50; Jan 16 in [10:00:00.9, ...) at 1 x 2 (multiplier from 10:00:00.1); Jan 21 not entitled
    assert usage == {
        datetime(2025, 1, 1): (D("0.5"), D("0.50")),
        datetime(2025, 1, 15, 10, 0, 0, 900000): (D("2"), D("2.00")),
    }
    failed = p.build(as_of="2025-13-01T00:00:00Z", expect_success=False)
    assert not failed.success and "billing_as_of 2025-13-01T00:00:00Z is not an RFC 3339 timestamp" in "\n".join(
        failed.problems
    )


def test_annual_billing_periods_from_the_contract_start(make_project):
    p = (
        make_project()
        .seeds(
            **{
                **CATALOG,
                "rate_card_rates": [
                    {
                        "rate_card_id": "rc",
                        "product_id": "p1",
                        "starting_at": "2024-01-01",
                        "rate_type": "FLAT",
                        "price": "0.5",
                    }
                ],
                "contracts": [
                    {
                        "contract_id": "k1",
                        "customer_id": "c1",
                        "rate_card_id": "rc",
                        "name": "K",
                        "starting_at": "2024-03-15",
                        "usage_statement_frequency": "ANNUAL",
                        "usage_statement_day": "CONTRACT_START",
                    }
                ],
            }
        )
        .metrics(METRICS)
    )
    p.ingest(
        [
            {"transaction_id": f"t{i}", "customer_id": "c1", "event_type": "call", "timestamp": ts, "properties": {}}
            for i, ts in enumerate(["2024-03-15T00:00:00Z", "2025-03-14T23:59:59Z", "2025-03-15T00:00:00Z"])
        ]
    )
    p.build(as_of="2025-03-20T00:00:00Z")
    # [2024-03-15, 2025-03-15): 2 calls x 0.50 = 1.00, final after Mar 16; [2025-03-15, 2026-03-15): 1 call, draft
    assert [(r["period_starting_at"], r["period_ending_before"], r["status"], r["total"]) for r in p.invoices()] == [
        (datetime(2024, 3, 15), datetime(2025, 3, 15), "FINALIZED", D("1.00")),
        (datetime(2025, 3, 15), datetime(2026, 3, 15), "DRAFT", D("0.50")),
    ]


def test_seed_missing_a_column_names_file_and_column(make_project, capfd):
    p = make_project().seeds(**CATALOG).metrics(METRICS)
    header_and_rows = (p.dir / "seeds" / "contracts.csv").read_text().splitlines()
    # drop the usage_statement_day and net_payment_terms_days columns (the last two)
    (p.dir / "seeds" / "contracts.csv").write_text(
        "\n".join(",".join(line.split(",")[:-2]) for line in header_and_rows) + "\n"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        result = p.build(expect_success=False)
    assert not result.success
    assert "seed=contracts.csv, problem=missing column(s) usage_statement_day, net_payment_terms_days" in "\n".join(
        result.problems
    ), result.problems
    # what the operator reads: the problem, not dbt's macro call stack; no agate warning about the
    # missing columns; and, written to a file or pipe as here, dbt's lines without colour codes
    assert not [line for problem in result.problems for line in problem.splitlines() if line.lstrip().startswith(">")]
    assert not [w for w in caught if "does not match the name of any column" in str(w.message)]
    console = capfd.readouterr().out
    assert "ERROR loading seed file main.contracts" in console and "\x1b[" not in console


def test_a_parse_started_from_another_projects_file_builds_this_projects_seeds_and_metrics(make_project):
    """Each test project's parse starts from the last parsed project's partial-parse file
    (tests/parse_cache.py). dbt-duckdb loads a seed's CSV from its node's root_path, which a partial
    parse keeps from the project that first parsed an unchanged seed: this project's seeds, edited
    after its parse, and its own metrics are still the ones built (billing_cli/build.py)."""
    other = make_project().metrics("billable_metrics:\n  - {name: tokens, event_type: call, aggregation: count}\n")
    other.parse()
    started = datetime.now().timestamp()
    p = make_project().metrics(METRICS)  # its seeds are header-only, as the other project's
    manifest = p.parse()
    # the parse did start from the other project's file: unchanged nodes keep their parse time
    assert any(node.created_at < started for node in manifest.nodes.values())
    assert "model.billing.int_metric_events__calls" in manifest.nodes
    assert "model.billing.int_metric_events__tokens" not in manifest.nodes
    # a seed edited after the parse is built (without a new parse) from this project's folder
    p.seeds(**CATALOG)
    p.ingest(
        [
            {
                "transaction_id": "t1",
                "customer_id": "c1",
                "event_type": "call",
                "timestamp": "2025-01-02T00:00:00Z",
                "properties": {},
            }
        ],
        loaded_at="2025-01-02T01:00:00Z",
    )
    p.build(as_of="2025-02-03T00:00:00Z")
    assert p.query("select customer_id from main.stg_customers") == [{"customer_id": "c1"}]
    january = [r for r in p.invoices() if r["period_starting_at"] == datetime(2025, 1, 1)]
    assert [(r["status"], r["total"]) for r in january] == [("FINALIZED", D("0.50"))]


def test_a_seed_is_loaded_again_only_when_its_file_or_its_load_changed(make_project):
    """A seed whose CSV and configuration are those of its last load is left as it is (DECISIONLOG D86):
    the same table (DuckDB's table_oid) after a second build. Edited after the process parsed the
    project, it is loaded again by the next build of that process; so is a table without the
    fingerprint comment, and every seed with --full-refresh. A header broken by an edit still fails."""
    p = make_project().seeds(**CATALOG).metrics(METRICS)

    def seeds():
        return {
            r["table_name"]: (r["table_oid"], r["comment"])
            for r in p.query(
                "select table_name, table_oid, comment from duckdb_tables() where schema_name = 'main' "
                "and table_name in ('customers', 'contracts', 'products')"
            )
        }

    p.build(as_of="2025-02-03T00:00:00Z", data_tests=False)
    first = seeds()
    assert len(first) == 3 and all(comment.startswith("billing seed ") for _, comment in first.values()), first
    p.build(as_of="2025-02-03T00:00:00Z", data_tests=False)
    assert seeds() == first  # not loaded again

    p.seeds(customers=[{"customer_id": "c1", "name": "One, renamed"}])  # the parse above is reused
    p.build(as_of="2025-02-03T00:00:00Z", data_tests=False)
    edited = seeds()
    assert edited["customers"][0] != first["customers"][0] and edited["customers"][1] != first["customers"][1]
    assert {k: v for k, v in edited.items() if k != "customers"} == {k: v for k, v in first.items() if k != "customers"}
    assert p.query("select name from main.stg_customers") == [{"name": "One, renamed"}]

    p.query("comment on table main.products is null")  # as a table created by something else
    p.build(as_of="2025-02-03T00:00:00Z", data_tests=False)
    assert seeds()["products"][0] != edited["products"][0] and seeds()["products"][1] == first["products"][1]

    before = seeds()
    p.build(as_of="2025-02-03T00:00:00Z", data_tests=False, full_refresh=True)
    assert all(seeds()[name][0] != before[name][0] for name in before)

    (p.dir / "seeds" / "products.csv").write_text("product_id,name\np1,Calls\n")
    result = p.build(as_of="2025-02-03T00:00:00Z", expect_success=False)
    assert "seed=products.csv, problem=missing column(s)" in "\n".join(result.problems), result.problems
