"""`billing build` reports (issue #18): the summary a finance person reads, `--json` for schedulers,
`--max-rejections` and its exit code, progress lines, `billing check`, and the refusals that come
before dbt starts (stale generated models, a bad `--as-of`).

One module project is built twice through the CLI and serves every summary case: a first build as
of Feb 5 (text, with progress, over `--max-rejections 0`) and a second, identical one (`--json`),
which brings in no new events and stores nothing. Catalog: one customer, FLAT $0.40 per call,
monthly periods from Jan 1 2025; three January and three February calls, one event of an unknown customer, one
duplicate; a `tokens` metric whose property no `completion` event carries; a spend alert at $1.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import BillingTestProject

from billing_cli import summary as summary_mod
from billing_cli.build import PARSE_TARGET
from billing_cli.cli import main
from billing_cli.db import connect
from billing_cli.publish import mart_names
from billing_cli.summary import EXIT_REJECTIONS, RejectionLimit

AS_OF = "2025-02-05T00:00:00Z"
METRICS = """billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
  - {name: tokens, event_type: completion, aggregation: sum, property: tokens}
"""
ALERTS = "alerts:\n  - {id: spend-1, type: spend_threshold_reached, threshold: 1}\n"
CATALOG = {  # also the catalog of tests/test_cli.py's build and export
    "customers": [{"customer_id": "cus_1", "name": "Tiny Co"}],
    "products": [{"product_id": "prod_calls", "name": "Calls", "type": "USAGE", "billable_metric": "calls"}],
    "rate_cards": [{"rate_card_id": "rc", "name": "List", "currency": "USD"}],
    "rate_card_rates": [
        {
            "rate_card_id": "rc",
            "product_id": "prod_calls",
            "starting_at": "2025-01-01",
            "entitled": True,
            "rate_type": "FLAT",
            "price": "0.40",
        }
    ],
    "contracts": [
        {
            "contract_id": "con_1",
            "customer_id": "cus_1",
            "rate_card_id": "rc",
            "name": "Main",
            "starting_at": "2025-01-01",
            "usage_statement_frequency": "MONTHLY",
            "usage_statement_day": "FIRST_OF_MONTH",
            "net_payment_terms_days": "15",
        }
    ],
}


def event(tid: str, customer: str = "cus_1", event_type: str = "call", day: str = "2025-01-02", **props) -> dict:
    return {
        "transaction_id": tid,
        "customer_id": customer,
        "event_type": event_type,
        "timestamp": f"{day}T12:00:00Z",
        "properties": props,
    }


def billing(project: BillingTestProject, *args: str):
    return CliRunner().invoke(main, ["--project-dir", str(project.dir), "--db", str(project.db_path), *args])


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch):
    """The CLI exports BILLING_DB for dbt's profile; keep that from leaking into other tests."""
    monkeypatch.delenv("BILLING_DB", raising=False)
    monkeypatch.delenv("BILLING_PROJECT_DIR", raising=False)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(project, first build, second build): the first over --max-rejections 0 with progress lines,
    the second with --json and nothing new."""
    project = BillingTestProject(tmp_path_factory.mktemp("report") / "p")
    project.seeds(**CATALOG).metrics(METRICS).alerts(ALERTS)
    project.ingest(
        [
            event("t1"),
            event("t2", day="2025-01-03"),
            event("t3", day="2025-01-04"),
            event("t3", day="2025-01-04"),  # a duplicate
            *(event(f"f{i}", day="2025-02-02") for i in range(3)),  # February's spend fires the alert
            event("bad_customer", customer="cus_unknown"),
            event("c1", event_type="completion", token_count="12"),  # not the metric's property
        ],
        loaded_at="2025-02-03T00:00:00Z",
    )
    first = billing(project, "build", "--as-of", AS_OF, "--progress", "--max-rejections", "0")
    second = billing(project, "build", "--as-of", AS_OF, "--json", "--max-rejections", "0")
    return project, first, second


# -- the text summary -----------------------------------------------------------------------------


def test_the_summary_names_outcomes_invoices_finalized_alerts_and_problems(builds):
    _, first, _ = builds
    assert first.exit_code == EXIT_REJECTIONS, first.output
    out = first.stdout
    assert out.startswith("dbt build succeeded: ")
    assert "as of 2025-02-05 00:00:00 UTC" in out.splitlines()[0]
    # events by outcome, rejections by reason, with what this build brought in
    assert re.search(r"^  metered +6 +6$", out, re.M), out
    assert re.search(r"^  duplicate +1 +1$", out, re.M), out
    assert re.search(r"^  unmetered +1 +1$", out, re.M), out
    assert re.search(r"^  rejected +1 +1$", out, re.M), out
    assert re.search(r"^    unknown_customer +1 +1$", out, re.M), out
    assert "1 of 9 new event(s) rejected: EXCEEDS --max-rejections 0" in out
    # invoices by type and status with totals per currency; January stored by this build
    assert re.search(r"^  USAGE +FINALIZED +USD +1 +\$1\.20$", out, re.M), out
    assert re.search(r"^  USAGE +DRAFT +USD +1 +\$1\.20$", out, re.M), out
    assert "Finalized by this build: 1 invoice(s), $1.20 (USD)" in out
    assert "Late usage adjustments: none" in out
    # each period that crossed fires (D69): January's and February's $1.20 against $1.00, in USD (D68)
    assert "Alerts fired by this build: 2" in out
    for period in ("2025-01-01", "2025-02-01"):
        assert re.search(
            rf"^  spend-1 \(spend_threshold_reached\) for cus_1 \[con_1/{period}\]: value \$1\.20, threshold \$1\.00$",
            out,
            re.M,
        ), out
    assert "Catalog problems: none" in out


def test_a_successful_build_publishes_the_marts_for_readers(builds):
    """Text mode says where; --json publishes silently. The copy holds the build's invoices."""
    project, first, second = builds
    copy = project.db_path.with_name("billing.read.duckdb")
    marts = len(mart_names(project.dir))  # models/marts less fct_event_outcomes
    assert f"Published {marts} marts for readers to {copy}" in first.stdout
    assert "Published" not in second.stdout
    with duckdb.connect(str(copy), read_only=True) as con:
        published = con.execute("select count(*) from fct_invoices").fetchone()[0]
    assert published == len(project.invoices()) > 0
    # the second build copied the first's copy while dbt ran (D98) and published from that file
    assert sorted(p.name for p in copy.parent.glob(f".{copy.name}*")) == []


def test_outcome_counts_come_from_the_load_summary_as_from_every_outcome(builds):
    """The summary counts events by outcome from fct_event_load_summary when the build updated it (its
    rows are the loads, not every event ever loaded): the same rows as counting fct_event_outcomes,
    in all and loaded after a watermark."""
    project, _, _ = builds
    con = connect(project.db_path, read_only=True)
    try:
        [(invocation,)] = con.execute(
            "select invocation_id from main.build_log order by started_at desc limit 1"
        ).fetchall()
        assert con.execute(summary_mod.LOAD_SUMMARY_BUILT, [invocation]).fetchone()[0] == 1
        for watermark in (None, datetime(2025, 2, 2), datetime(2025, 2, 3)):
            by_load = con.execute(summary_mod.LOAD_OUTCOMES, [watermark, watermark]).fetchall()
            by_event = con.execute(summary_mod.OUTCOMES, [watermark, watermark]).fetchall()
            assert by_load == by_event and len(by_load) == 4
    finally:
        con.close()


def test_a_metric_property_no_event_carries_is_a_warning(builds):
    _, first, second = builds
    warning = "metric tokens: none of the 1 'completion' event(s) carries property 'tokens'"
    assert warning in first.stdout
    assert any(warning in w for w in json.loads(second.stdout)["warnings"])
    assert "metric calls" not in first.stdout  # a count has no property


def test_progress_lines_count_nodes_with_the_elapsed_time(builds):
    _, first, second = builds
    lines = first.stderr.splitlines()
    assert lines, "no progress lines"
    parsed = [re.fullmatch(r"(\d+)/(\d+) ([\w-]+) (\S+) \((\d+\.\d) s\)", line) for line in lines]
    assert all(parsed), lines[:5]
    assert [int(m.group(1)) for m in parsed] == list(range(1, len(lines) + 1))
    assert int(parsed[-1].group(1)) == int(parsed[-1].group(2))
    assert {m.group(4) for m in parsed} >= {"fct_invoices", "invoice_store"}
    assert second.stderr == ""  # --json: no progress unless asked


# -- JSON ----------------------------------------------------------------------------------------------


def test_json_is_the_whole_output_and_the_second_build_brings_nothing_new(builds):
    _, first, second = builds
    assert second.exit_code == 0, second.output  # no new event, none rejected: within 0
    doc = json.loads(second.stdout)  # dbt printed nothing else
    assert doc["success"] is True and doc["as_of"] == "2025-02-05T00:00:00Z"
    assert doc["new_events"] == {"events": 0, "rejected": 0}
    assert {(o["outcome"], o["reason"]): (o["events"], o["new"]) for o in doc["events"]} == {
        ("metered", None): (6, 0),
        ("duplicate", None): (1, 0),
        ("unmetered", None): (1, 0),
        ("rejected", "unknown_customer"): (1, 0),
    }
    assert {(g["invoice_type"], g["status"], g["currency"], g["invoices"], g["total"]) for g in doc["invoices"]} == {
        ("USAGE", "FINALIZED", "USD", 1, "1.20"),
        ("USAGE", "DRAFT", "USD", 1, "1.20"),
    }
    assert doc["finalized"] == [] and doc["alerts_fired"] == []  # the first build stored and fired them
    assert doc["catalog_problems"] == [] and doc["late_adjustments"] == []
    assert doc["rejection_limit"] == "0" and doc["rejections_exceeded"] is False
    assert doc["nodes"] == {k: int(v) for k, v in doc["nodes"].items()} and doc["nodes"].get("error", 0) == 0


def test_the_parse_state_is_kept_apart_from_plain_dbts(builds):
    """billing parses into target/billing/, so a plain `dbt build --vars ...` (which re-parses when
    its vars change) and `billing build` do not throw each other's partial-parse file away."""
    project, _, _ = builds
    assert (project.dir / PARSE_TARGET / "partial_parse.msgpack").exists()
    assert not (project.dir / "target" / "partial_parse.msgpack").exists()


# -- the rejection threshold ---------------------------------------------------------------------------


def test_rejection_limits_are_a_count_or_a_share():
    assert RejectionLimit.parse("10").exceeded(10, 100) is False
    assert RejectionLimit.parse("10").exceeded(11, 100) is True
    assert RejectionLimit.parse("0.5%").exceeded(5, 1000) is False
    assert RejectionLimit.parse("0.5%").exceeded(6, 1000) is True
    assert RejectionLimit.parse("0%").exceeded(0, 0) is False
    for bad in ("ten", "-1", "101%", "1.5", ""):
        with pytest.raises(ValueError):
            RejectionLimit.parse(bad)


def test_a_bad_rejection_limit_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main, ["--project-dir", str(tmp_path), "--db", str(tmp_path / "x.duckdb"), "build", "--max-rejections", "x"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--max-rejections'" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()


# -- refusals before dbt starts ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2025-02-30", "yesterday", "2025-04-02T24:00:00Z", "2025-04-02T12:00Z"])
def test_a_bad_as_of_names_the_flag_and_starts_nothing(tmp_path, monkeypatch, value):
    import billing_cli.build

    def no_dbt(*args, **kwargs):
        raise AssertionError("dbt started")

    monkeypatch.setattr(billing_cli.build.DbtProject, "_invoke", no_dbt)
    db = tmp_path / "x.duckdb"
    for args in (["build", "--as-of", value], ["invoices", "void", "inv", "--reason", "r", "--as-of", value]):
        result = CliRunner().invoke(main, ["--project-dir", str(tmp_path), "--db", str(db), *args])
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '--as-of': '{value}' is not an RFC 3339 timestamp" in result.stderr
    assert not db.exists()


def test_a_build_with_stale_generated_models_is_refused_before_dbt(tmp_path):
    project = BillingTestProject(tmp_path / "p").seeds(**CATALOG).metrics(METRICS)
    (project.dir / "billable_metrics.yml").write_text(METRICS.replace("sum, property: tokens", "max, property: tokens"))

    result = billing(project, "build", "--as-of", AS_OF)

    assert result.exit_code == 1
    assert "generated models are stale; run `billing compile`" in result.stderr
    assert "int_metric_events__tokens.sql (out of date)" in result.stderr
    assert not project.db_path.exists()  # refused before anything opened the database


# -- billing check -------------------------------------------------------------------------------------


def test_check_reports_catalog_problems_without_a_full_build(tmp_path):
    project = BillingTestProject(tmp_path / "p").metrics(METRICS)
    bad = [dict(CATALOG["contracts"][0], customer_id="cus_nobody")]
    project.seeds(**{**CATALOG, "contracts": bad})

    result = billing(project, "check")

    assert result.exit_code == 1, result.output
    assert "ok: 2 metric(s), 0 alert(s): valid, generated models up to date" in result.stdout
    assert "seed=contracts.csv, row_key=con_1, problem=customer_id is not in customers" in result.stderr
    tables = {r["table_name"] for r in project.query("select table_name from information_schema.tables")}
    assert "int_catalog_problems" in tables
    assert "fct_invoices" not in tables and "fct_event_outcomes" not in tables  # no full build

    # a build stops at the same problem; --json still prints the document (and only it), exit 1
    failed = billing(project, "build", "--as-of", AS_OF, "--json")
    assert failed.exit_code == 1, failed.output
    doc = json.loads(failed.stdout)
    assert doc["success"] is False and doc["invoices"] == [] and doc["events"] == []
    assert doc["catalog_problems"] == [
        {"seed": "contracts.csv", "row_key": "con_1", "problem": "customer_id is not in customers"}
    ]
    assert any("assert_catalog_has_no_problems" in p for p in doc["problems"])

    project.seeds(**CATALOG)
    fixed = billing(project, "check")
    assert fixed.exit_code == 0, fixed.output
    assert "ok: seeds and catalog:" in fixed.stdout and "no problems" in fixed.stdout
    assert re.search(r"^checked in \d+\.\d s$", fixed.stdout, re.M)


def test_check_names_a_seed_header_that_does_not_match_the_contract(tmp_path):
    project = BillingTestProject(tmp_path / "p").seeds(**CATALOG).metrics(METRICS)
    path: Path = project.dir / "seeds" / "rate_cards.csv"
    path.write_text(path.read_text().replace("currency", "currncy"))

    result = billing(project, "check")

    assert result.exit_code == 1, result.output
    assert "seed=rate_cards.csv" in result.stderr and "currncy" in result.stderr


def test_progress_on_a_terminal_rewrites_one_line():
    from types import SimpleNamespace

    from billing_cli.build import Progress

    def msg(name: str, **data) -> SimpleNamespace:
        return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))

    written: list[str] = []
    progress = Progress(written.append, in_place=True)
    progress(msg("LogStartLine", total=2))
    for node, materialized in (("stg_a", "view"), ("int_check", "ephemeral"), ("fct_b", "table")):
        info = SimpleNamespace(node_status="success", node_name=node, materialized=materialized)
        progress(msg("NodeFinished", node_info=info))  # an ephemeral model is not one of the nodes counted
    progress.close()
    assert [w.split(" (")[0] for w in written[:2]] == ["\r\x1b[K1/2 success stg_a", "\r\x1b[K2/2 success fct_b"]
    assert written[2] == "\n"


def test_an_ephemeral_models_error_is_named():
    """dbt leaves an ephemeral model out of a build's results (the models reading it are `skipped`):
    its error, from the NodeFinished event, is one of the build's problems."""
    from types import SimpleNamespace

    from billing_cli.build import EphemeralErrors

    def finished(node: str, materialized: str, status: str, message: str | None) -> SimpleNamespace:
        return SimpleNamespace(
            info=SimpleNamespace(name="NodeFinished"),
            data=SimpleNamespace(
                node_info=SimpleNamespace(node_name=node, materialized=materialized),
                run_result=SimpleNamespace(status=status, message=message),
            ),
        )

    errors = EphemeralErrors()
    errors(finished("int_catalog_problems__contracts", "ephemeral", "error", "Compilation Error: bad as-of\n"))
    errors(finished("int_events_to_meter", "ephemeral", "success", None))
    errors(finished("fct_invoices", "table", "error", "in the results already"))
    assert errors.problems == ["- model int_catalog_problems__contracts: Compilation Error: bad as-of"]
