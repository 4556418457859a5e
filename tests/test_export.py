"""`export_invoices`: a period's invoices and lines as CSV, JSON and Parquet (one dbt build, shared).

The project: customer cus_x named =HYPERLINK("http://x") (provider id "-42", text), product prod_cmd
named "+cmd", USAGE, billing `units` (sum) at FLAT 0.125 per unit; a monthly contract from
2025-01-01 with 30 days' payment terms. Built as of 2025-04-02T12:00Z, so January to March are
FINALIZED (period end + 24 h grace) and April has a DRAFT $0 invoice.

Expected amounts (FLAT: quantity x price, rounded half-up to cents):
  2025-01: 5 + 7 = 12 units x 0.125 = 1.500  -> 1.50
  2025-02: 9 - 13 = -4 units x 0.125 = -0.500 -> -0.50 (a correction larger than the usage)
  2025-03: 9 units x 0.125 = 1.125            -> 1.13 (half-up)
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import BillingTestProject

from billing_cli.errors import BillingError
from billing_cli.export import INVOICE_COLUMNS, LINE_COLUMNS, export_invoices, neutralise

CUSTOMER_NAME = '=HYPERLINK("http://x")'
METRICS = """
billable_metrics:
  - name: api_units
    event_type: api_call
    aggregation: sum
    property: units
"""


def usage(tid: str, at: str, units) -> dict:
    return {
        "transaction_id": tid,
        "customer_id": "cus_x",
        "event_type": "api_call",
        "timestamp": at,
        "properties": {"units": units},
    }


def seeds(price: str = "0.125") -> dict:
    return {
        "customers": [
            {
                "customer_id": "cus_x",
                "name": CUSTOMER_NAME,
                "billing_provider": "stripe",
                "billing_provider_customer_id": "-42",
            }
        ],
        "products": [{"product_id": "prod_cmd", "name": "+cmd", "type": "USAGE", "billable_metric": "api_units"}],
        "rate_cards": [{"rate_card_id": "rc_x", "name": "List", "currency": "USD"}],
        "rate_card_rates": [
            {
                "rate_card_id": "rc_x",
                "product_id": "prod_cmd",
                "starting_at": "2024-01-01T00:00:00Z",
                "entitled": True,
                "rate_type": "FLAT",
                "price": price,
            }
        ],
        "contracts": [
            {
                "contract_id": "con_x",
                "customer_id": "cus_x",
                "rate_card_id": "rc_x",
                "name": "Main",
                "starting_at": "2025-01-01T00:00:00Z",
                "usage_statement_frequency": "MONTHLY",
                "usage_statement_day": "FIRST_OF_MONTH",
                "net_payment_terms_days": "30",
            }
        ],
    }


def built_project(root: Path) -> BillingTestProject:
    """The module's project, built as of 2025-04-02T12:00Z."""
    project = BillingTestProject(root)
    project.seeds(**seeds())
    project.metrics(METRICS)
    project.ingest(
        [
            usage("e1", "2025-01-05T10:00:00Z", 5),
            usage("e2", "2025-01-20T10:00:00Z", "7"),
            usage("e3", "2025-02-10T10:00:00Z", 9),
            usage("e4", "2025-02-11T10:00:00Z", -13),
            usage("e5", "2025-03-15T10:00:00Z", 9),
        ],
        loaded_at="2025-03-20T00:00:00Z",
    )
    project.build(as_of="2025-04-02T12:00:00Z")
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> BillingTestProject:
    return built_project(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def db(built) -> Path:
    return built.db_path


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


# -- formats ----------------------------------------------------------------------------------


def test_csv_has_the_period_invoice_and_line_with_exact_money(db, tmp_path):
    path, invoices, lines = export_invoices(db, "2025-01", "csv", tmp_path / "jan.csv")

    assert (path, invoices, lines) == (tmp_path / "jan.csv", 1, 1)
    header, rows = read_csv(path)
    assert header == list(INVOICE_COLUMNS + LINE_COLUMNS)
    assert len(rows) == 1
    row = rows[0]
    assert {
        k: row[k]
        for k in (
            "contract_id",
            "customer_id",
            "invoice_type",
            "status",
            "currency",
            "period_starting_at",
            "period_ending_before",
            "issued_at",
            "due_at",
        )
    } == {
        "contract_id": "con_x",
        "customer_id": "cus_x",
        "invoice_type": "USAGE",
        "status": "FINALIZED",
        "currency": "USD",
        "period_starting_at": "2025-01-01T00:00:00Z",
        "period_ending_before": "2025-02-01T00:00:00Z",
        "issued_at": "2025-02-01T00:00:00Z",
        "due_at": "2025-03-03T00:00:00Z",
    }
    assert (row["subtotal"], row["credits_applied"], row["commits_applied"], row["total"]) == (
        "1.50",
        "0.00",
        "0.00",
        "1.50",
    )
    assert (row["line_type"], row["product_id"], row["amount"]) == ("usage", "prod_cmd", "1.50")
    assert Decimal(row["quantity"]) == 12
    assert Decimal(row["unit_price"]) == Decimal("0.125")
    assert (row["starting_at"], row["ending_before"]) == ("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")
    assert row["commit_id"] == row["credit_id"] == ""


def test_csv_neutralises_formula_text_but_not_negative_numbers(db, tmp_path):
    path, _, _ = export_invoices(db, "2025-02", "csv", tmp_path / "feb.csv")

    _, rows = read_csv(path)
    assert len(rows) == 1
    row = rows[0]
    assert row["customer_name"] == "'" + CUSTOMER_NAME
    assert row["name"] == "'+cmd"
    assert row["billing_provider_customer_id"] == "'-42"  # text that looks like a number is still text
    assert row["billing_provider"] == "stripe"
    # a negative period quantity is priced 0.00 (DECISIONLOG D58) and exported as a number, not as text
    assert row["amount"] == "0.00"
    assert row["total"] == row["subtotal"] == "0.00"
    assert Decimal(row["quantity"]) == -4 and row["quantity"].startswith("-")


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_every_formula_trigger(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "", "a=b", Decimal("-1.50"), -3, None])
def test_neutralise_leaves_other_values_alone(value):
    assert neutralise(value) == value


def test_json_nests_lines_and_writes_money_as_decimal_strings(db, tmp_path):
    path, invoices, lines = export_invoices(db, "2025-03", "json", tmp_path / "mar.json")

    assert (invoices, lines) == (1, 1)
    doc = json.loads(path.read_text())
    assert doc["period"] == "2025-03"
    [invoice] = doc["invoices"]
    assert list(invoice) == [*INVOICE_COLUMNS, "line_items"]
    assert invoice["customer_name"] == CUSTOMER_NAME  # JSON is data, not a spreadsheet: verbatim
    assert (invoice["status"], invoice["period_starting_at"], invoice["due_at"]) == (
        "FINALIZED",
        "2025-03-01T00:00:00Z",
        "2025-05-01T00:00:00Z",
    )
    assert (invoice["subtotal"], invoice["credits_applied"], invoice["total"]) == ("1.13", "0.00", "1.13")
    [line] = invoice["line_items"]
    assert list(line) == list(LINE_COLUMNS)
    assert (line["name"], line["amount"]) == ("+cmd", "1.13")  # 9 x 0.125 = 1.125, half-up
    assert isinstance(line["quantity"], str) and Decimal(line["quantity"]) == 9
    assert Decimal(line["unit_price"]) == Decimal("0.125")


def test_json_keeps_invoices_without_lines(db, tmp_path):
    path, invoices, lines = export_invoices(db, "2025-04", "json", tmp_path / "apr.json")

    assert (invoices, lines) == (1, 0)
    [invoice] = json.loads(path.read_text())["invoices"]
    assert (invoice["status"], invoice["total"], invoice["line_items"]) == ("DRAFT", "0.00", [])


def test_parquet_keeps_decimal_types_and_raw_text(db, tmp_path):
    path, invoices, lines = export_invoices(db, "2025-01", "parquet", tmp_path / "jan.parquet")

    assert (invoices, lines) == (1, 1)
    table = pq.read_table(path)
    assert set(INVOICE_COLUMNS + LINE_COLUMNS) <= set(table.column_names)
    for column in ("subtotal", "total", "amount", "quantity", "unit_price"):
        assert pa.types.is_decimal(table.schema.field(column).type), column
    [row] = table.to_pylist()
    assert (row["total"], row["amount"]) == (Decimal("1.50"), Decimal("1.50"))
    assert row["quantity"] == 12
    assert (row["customer_name"], row["name"]) == (CUSTOMER_NAME, "+cmd")


# -- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2025-13", "abc", "2025-1", "2025-00", "", "2025-01-01"])
def test_bad_period_is_refused(db, tmp_path, period):
    with pytest.raises(BillingError, match="is not of the form YYYY-MM") as e:
        export_invoices(db, period, "csv", tmp_path / "out.csv")
    assert repr(period) in str(e.value)
    assert not (tmp_path / "out.csv").exists()


def test_output_suffix_must_match_the_format(db, tmp_path):
    with pytest.raises(BillingError, match=r"should end in \.csv for --format csv"):
        export_invoices(db, "2025-01", "csv", tmp_path / "out.json")


def test_output_folder_must_exist(db, tmp_path):
    with pytest.raises(BillingError, match="does not exist") as e:
        export_invoices(db, "2025-01", "csv", tmp_path / "missing" / "out.csv")
    assert str(tmp_path / "missing") in str(e.value)


def test_unknown_format_is_refused(db, tmp_path):
    with pytest.raises(BillingError, match="'xlsx' is not one of csv, json, parquet"):
        export_invoices(db, "2025-01", "xlsx", tmp_path / "out.xlsx")


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_existing_folder_gets_a_file_named_after_the_period(db, tmp_path, fmt):
    path, invoices, _ = export_invoices(db, "2025-01", fmt, tmp_path)

    assert path == tmp_path / f"invoices_2025-01.{fmt}"
    assert path.is_file() and invoices == 1


def test_empty_period_writes_a_header_only_csv(db, tmp_path):
    path, invoices, lines = export_invoices(db, "2024-06", "csv", tmp_path / "empty.csv")

    assert (invoices, lines) == (0, 0)
    assert path.read_text().splitlines() == [",".join(INVOICE_COLUMNS + LINE_COLUMNS)]


def test_missing_database_is_a_clean_error(tmp_path):
    with pytest.raises(BillingError, match="no such database yet"):
        export_invoices(tmp_path / "none.duckdb", "2025-01", "csv", tmp_path / "out.csv")


@pytest.mark.parametrize("period", ["0000-01", "9999-12"])
def test_out_of_range_period_is_a_clean_error(db, tmp_path, period):
    with pytest.raises(BillingError):
        export_invoices(db, period, "csv", tmp_path / "out.csv")


# -- Stripe: a regenerated invoice is a new Stripe invoice (DECISIONLOG D35, D45) ----------------


def stripe_files(project: BillingTestProject, period: str, out: Path) -> dict[str, str]:
    from click.testing import CliRunner

    from billing_cli.cli import main

    result = CliRunner().invoke(
        main,
        [
            "--project-dir",
            str(project.dir),
            "--db",
            str(project.db_path),
            "export",
            "stripe",
            "--period",
            period,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return {f.name: f.read_text() for f in sorted(out.iterdir())}


def test_stripe_export_of_a_regenerated_invoice_voids_the_old_one_with_new_keys(built, tmp_path):
    from click.testing import CliRunner

    from billing_cli.cli import main

    project = built.copy(tmp_path / "p")
    [before] = stripe_files(project, "2025-01", tmp_path / "before").values()
    before = json.loads(before)
    assert before["invoice_version"] == 1
    assert [r["path"] for r in before["requests"]] == [
        "/v1/invoices",
        "/v1/invoiceitems",
        "/v1/invoices/{invoice}/finalize",
    ]

    # January repriced: 12 units x 0.25 = 3.00; voided and regenerated as of the last build
    project.seeds(**seeds(price="0.25"))
    invoice_id = before["invoice_id"]
    result = CliRunner().invoke(
        main,
        [
            "--project-dir",
            str(project.dir),
            "--db",
            str(project.db_path),
            "invoices",
            "void",
            invoice_id,
            "--reason",
            "repriced",
            "--also-finalize",  # no rehearsal build on a copy: nothing else is due as of the last build
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Also finalized" not in result.output
    after_files = stripe_files(project, "2025-01", tmp_path / "after")
    after = json.loads(after_files[f"{invoice_id}.json"])
    assert (after["invoice_version"], after["total"]) == (2, 300)
    search, void, create, *items, finalize = after["requests"]
    assert (search["method"], search["path"], search["result"]) == ("GET", "/v1/invoices/search", "voided_v1")
    assert search["params"]["query"] == (
        f"metadata['billing_invoice_id']:'{invoice_id}' AND metadata['billing_invoice_version']:'1'"
    )
    assert (void["method"], void["path"]) == ("POST", "/v1/invoices/{voided_v1}/void")
    assert (create["path"], create["result"]) == ("/v1/invoices", "invoice")
    assert create["params"]["metadata"]["billing_invoice_version"] == "2"
    assert create["params"]["pending_invoice_items_behavior"] == "exclude"
    assert [(i["params"]["invoice"], i["params"]["amount"]) for i in items] == [("{invoice}", 300)]
    assert finalize["path"] == "/v1/invoices/{invoice}/finalize"
    old_keys = {r["idempotency_key"] for r in before["requests"]}
    new_keys = [r["idempotency_key"] for r in after["requests"] if r["method"] == "POST"]
    assert len(new_keys) == len(set(new_keys)) == 4 and not old_keys & set(new_keys)
    assert all("-v2-" in key for key in new_keys)
    # the same version exported again: byte-identical files (resending them is harmless)
    assert stripe_files(project, "2025-01", tmp_path / "again") == after_files
