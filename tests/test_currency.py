"""Currency minor units (DECISIONLOG D20, D70): amounts rounded to 0 places for JPY, 3 for KWD, 2 for USD.

Three contracts bill the same usage, subscription, scheduled charge and credit, one in each currency
(rate cards rc_cur_jpy, rc_cur_kwd, rc_cur_usd). Every amount is worked out by hand below:

  cur_api      3 calls, TIERED: 1 x 0.8335 + 2 x 0.8335
                                         = 2.5005      -> JPY 3,    USD 2.50,    KWD 2.501
  cur_storage  1234.5675 GB x 1          = 1234.5675   -> JPY 1235, USD 1234.57, KWD 1234.568
  cur_seat     7 seats x 0.1234567 (ADVANCE, January)
                                         = 0.8641969   -> JPY 1,    USD 0.86,    KWD 0.864
  cur_fee      a scheduled charge on Jan 15 of JPY 1500, USD 12.34, KWD 12.345 (the catalog's own)
  credit       JPY 5000, USD 5000.00, KWD 5000.125 from Jan 1: January's usage invoice draws all its
               charges (JPY 1238, USD 1237.07, KWD 1237.069), leaving JPY 3762, USD 3762.93,
               KWD 3763.056.

The ids are prefixed `cur_` so that tests/test_balances.py's prepare() can add them to its scenario
(tests/test_spark_parity.py then bills them on Spark too).
"""

from __future__ import annotations

import csv
import json
import re

import jinja2
import pytest
from click.testing import CliRunner
from conftest import REPO, BillingTestProject, D

from billing_cli import currency
from billing_cli.cli import main
from billing_cli.stripe import stripe_amount
from billing_cli.tables import cell

AS_OF = "2025-05-10T00:00:00Z"
METRICS = """billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
  - {name: gigabytes, event_type: store, aggregation: sum, property: gb}
"""
CURRENCIES = {"cur_jpy": "JPY", "cur_kwd": "KWD", "cur_usd": "USD"}
SCHEDULED = {"cur_jpy": "1500", "cur_kwd": "12.345", "cur_usd": "12.34"}
CREDITS = {"cur_jpy": "5000", "cur_kwd": "5000.125", "cur_usd": "5000.00"}

# contract -> the expected amounts (computed by hand, see the module docstring)
EXPECTED = {
    "cur_jpy": {"api": D("3"), "storage": D("1235"), "seat": D("1"), "fee": D("1500"), "remaining": D("3762")},
    "cur_kwd": {
        "api": D("2.501"),
        "storage": D("1234.568"),
        "seat": D("0.864"),
        "fee": D("12.345"),
        "remaining": D("3763.056"),
    },
    "cur_usd": {
        "api": D("2.50"),
        "storage": D("1234.57"),
        "seat": D("0.86"),
        "fee": D("12.34"),
        "remaining": D("3762.93"),
    },
}


def seed_rows() -> dict[str, list[dict]]:
    """The currency cases' seed rows (all ids prefixed cur_), to add to a scenario's seeds."""
    rates = []
    for contract_id in CURRENCIES:
        card = f"rc_{contract_id}"
        rates += [
            {"rate_card_id": card, "product_id": "cur_api", "starting_at": "2024-01-01", "rate_type": "TIERED"}
            | {"tiers": [{"size": 1, "price": "0.8335"}, {"price": "0.8335"}]},
            {"rate_card_id": card, "product_id": "cur_storage", "starting_at": "2024-01-01", "rate_type": "FLAT"}
            | {"price": "1"},
            {
                "rate_card_id": card,
                "product_id": "cur_seat",
                "starting_at": "2024-01-01",
                "rate_type": "SUBSCRIPTION",
                "price": "0.1234567",
                "billing_frequency": "MONTHLY",
            },
        ]
    return {
        "customers": [
            {
                "customer_id": f"c_{k}",
                "name": f"Customer {code}",
                "billing_provider": "stripe",
                "billing_provider_customer_id": f"cus_{code.lower()}",
            }
            for k, code in CURRENCIES.items()
        ],
        "products": [
            {"product_id": "cur_api", "name": "Calls", "type": "USAGE", "billable_metric": "calls"},
            {"product_id": "cur_storage", "name": "Storage", "type": "USAGE", "billable_metric": "gigabytes"},
            {"product_id": "cur_seat", "name": "Seats", "type": "SUBSCRIPTION"},
            {"product_id": "cur_fee", "name": "Onboarding", "type": "FIXED"},
        ],
        "rate_cards": [{"rate_card_id": f"rc_{k}", "name": code, "currency": code} for k, code in CURRENCIES.items()],
        "rate_card_rates": rates,
        "contracts": [
            {"contract_id": k, "customer_id": f"c_{k}", "rate_card_id": f"rc_{k}", "starting_at": "2025-01-01"}
            for k in CURRENCIES
        ],
        "contract_subscriptions": [
            {
                "subscription_id": f"{k}_seats",
                "contract_id": k,
                "product_id": "cur_seat",
                "quantity": "7",
                "starting_at": "2025-01-01",
                "ending_before": "2025-02-01",
                "collection_schedule": "ADVANCE",
                "is_prorated": "false",
            }
            for k in CURRENCIES
        ],
        "contract_scheduled_charges": [
            {
                "scheduled_charge_id": f"{k}_fee",
                "contract_id": k,
                "product_id": "cur_fee",
                "timestamp": "2025-01-15",
                "amount": SCHEDULED[k],
            }
            for k in CURRENCIES
        ],
        "contract_credits": [
            {
                "credit_id": f"{k}_credit",
                "contract_id": k,
                "name": "Welcome credit",
                "amount": CREDITS[k],
                "access_starting_at": "2025-01-01",
            }
            for k in CURRENCIES
        ],
    }


def seeds_with_currency_cases(p: BillingTestProject, **seeds: list[dict]) -> None:
    """Write `seeds` with the currency cases' rows added (tests/test_balances.py's scenario, whose metrics
    are these)."""
    extra = seed_rows()
    p.seeds(**{name: seeds.get(name, []) + extra.get(name, []) for name in {*seeds, *extra}})


def events() -> list[dict]:
    """January's usage of each currency contract: 3 calls and 1234.5675 GB."""
    rows = []
    for k in CURRENCIES:
        rows += [
            {
                "transaction_id": f"{k}-call-{i}",
                "customer_id": f"c_{k}",
                "event_type": "call",
                "timestamp": "2025-01-10T12:00:00Z",
                "properties": {},
            }
            for i in range(3)
        ]
        rows.append(
            {
                "transaction_id": f"{k}-store",
                "customer_id": f"c_{k}",
                "event_type": "store",
                "timestamp": "2025-01-10T12:00:00Z",
                "properties": {"gb": "1234.5675"},
            }
        )
    return rows


def prepare(p: BillingTestProject) -> str:
    p.metrics(METRICS)
    p.seeds(**seed_rows())
    p.ingest(events(), loaded_at="2025-01-11T00:00:00Z")
    return AS_OF


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("currency"))
    p.build(as_of=prepare(p))
    return p


def cli(p: BillingTestProject, *args: str):
    return CliRunner().invoke(main, ["--project-dir", str(p.dir), "--db", str(p.db_path), *args])


# -- rating ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("contract_id", list(CURRENCIES))
def test_line_amounts_are_rounded_to_the_currency_minor_unit(project, contract_id):
    expected = EXPECTED[contract_id]
    lines = {r["product_id"]: r["amount"] for r in project.lines(contract_id) if r["line_type"] != "applied_credit"}
    assert lines == {
        "cur_api": expected["api"],
        "cur_storage": expected["storage"],
        "cur_seat": expected["seat"],
        "cur_fee": expected["fee"],
    }
    # exactly: no digit beyond the minor unit (a JPY line carries no fraction of a yen)
    places = currency.minor_units(CURRENCIES[contract_id])
    for amount in lines.values():
        assert amount == amount.quantize(D(1).scaleb(-places))


@pytest.mark.parametrize("contract_id", list(CURRENCIES))
def test_invoice_totals_and_balances_in_minor_units(project, contract_id):
    expected = EXPECTED[contract_id]
    usage_charges = expected["api"] + expected["storage"]
    invoices = {(r["invoice_type"], r["issued_at"].month): r for r in project.invoices(contract_id)}
    january = invoices[("USAGE", 2)]
    assert january["currency"] == CURRENCIES[contract_id]
    assert (january["subtotal"], january["credits_applied"], january["total"]) == (usage_charges, usage_charges, 0)
    scheduled = sorted(r["total"] for r in project.invoices(contract_id) if r["invoice_type"] == "SCHEDULED")
    assert scheduled == sorted([expected["seat"], expected["fee"]])

    [balance] = project.query("select * from main.fct_balances where balance_id = ?", [f"{contract_id}_credit"])
    assert balance["consumed_amount"] == usage_charges
    assert balance["remaining_amount"] == expected["remaining"]
    ledger = project.query(
        "select entry_type, amount from main.fct_balance_ledger where balance_id = ? order by effective_at",
        [f"{contract_id}_credit"],
    )
    assert [(r["entry_type"], r["amount"]) for r in ledger] == [
        ("SEGMENT_START", D(CREDITS[contract_id])),
        ("INVOICE_DEDUCTION", -usage_charges),
    ]


def test_documents_show_the_tiers_of_a_line_rounded_in_its_currency(project):
    """The tier breakdown is shown when the tiers reproduce the line's amount in its currency: 2.5005
    is JPY 3 (it is not 2.50, the cents of it)."""
    [january] = [r for r in project.invoices("cur_jpy") if r["invoice_type"] == "USAGE" and r["issued_at"].month == 2]
    result = cli(project, "invoices", "show", january["invoice_id"])
    assert result.exit_code == 0, result.output
    assert "Tier 2: over 1" in result.stdout and "¥3" in result.stdout, result.stdout


# -- exports --------------------------------------------------------------------------------------


def test_exports_show_each_currency_with_its_minor_units(project, tmp_path):
    out = tmp_path / "jan.csv"
    assert (
        cli(project, "export", "invoices", "--period", "2025-01", "--format", "csv", "--out", str(out)).exit_code == 0
    )
    rows = list(csv.DictReader(out.open()))
    storage = {r["contract_id"]: r["amount"] for r in rows if r["product_id"] == "cur_storage"}
    assert storage == {"cur_jpy": "1235", "cur_kwd": "1234.568", "cur_usd": "1234.57"}
    totals = {r["contract_id"]: r["total"] for r in rows if r["invoice_type"] == "USAGE"}
    assert totals == {"cur_jpy": "0", "cur_kwd": "0.000", "cur_usd": "0.00"}

    out = tmp_path / "jan.json"
    assert (
        cli(project, "export", "invoices", "--period", "2025-01", "--format", "json", "--out", str(out)).exit_code == 0
    )
    documents = {d["contract_id"]: d for d in json.loads(out.read_text())["invoices"] if d["invoice_type"] == "USAGE"}
    assert documents["cur_jpy"]["subtotal"] == "1238"
    assert documents["cur_kwd"]["subtotal"] == "1237.069"
    assert documents["cur_usd"]["subtotal"] == "1237.07"


def test_stripe_payloads_use_stripe_minor_units(project, tmp_path):
    out = tmp_path / "stripe"
    result = cli(project, "export", "stripe", "--period", "2025-01", "--out", str(out))
    assert result.exit_code == 0, result.output
    fees = {}
    for path in out.iterdir():
        document = json.loads(path.read_text())
        for request in document["requests"]:
            params = request["params"]
            if request["path"] == "/v1/invoiceitems" and params["metadata"]["product_id"] == "cur_fee":
                fees[params["currency"]] = (params["amount"], params["metadata"].get("billing_amount"))
    # JPY is zero-decimal on Stripe (whole yen); USD in cents; KWD in thousandths whose last digit must
    # be 0: 12.345 KWD is sent as 12350 (rounded half-up to the nearest ten), the exact amount kept.
    assert fees == {"jpy": (1500, "1500"), "usd": (1234, "12.34"), "kwd": (12350, "12.345")}


def test_stripe_amounts():
    assert stripe_amount(D("1235.000"), "JPY", "x") == 1235
    assert stripe_amount(D("1234.570"), "USD", "x") == 123457
    assert stripe_amount(D("1234.568"), "KWD", "x") == 1234570
    assert stripe_amount(D("-0.005"), "KWD", "x") == -10
    assert stripe_amount(D("0.004"), "BHD", "x") == 0
    assert stripe_amount(D("12"), "ISK", "x") == 1200  # two-decimal on Stripe, whole krónur in ISO 4217


# -- the catalog ----------------------------------------------------------------------------------


def test_amounts_finer_than_their_currency_are_catalog_problems(make_project):
    p = make_project()
    seeds = seed_rows()
    fine = {"cur_jpy": "1500.5", "cur_kwd": "12.3456", "cur_usd": "12.345"}
    for row in seeds["contract_scheduled_charges"]:
        row["amount"] = fine[row["contract_id"]]
    for row in seeds["contract_credits"]:
        row["amount"] = {"cur_jpy": "0.5", "cur_kwd": "1.0005", "cur_usd": "1.005"}[row["contract_id"]]
    seeds["rate_cards"].append({"rate_card_id": "rc_clf", "name": "CLF", "currency": "clf"})
    p.metrics(METRICS).seeds(**seeds)
    result = p.build(as_of=AS_OF, expect_success=False)
    text = result.describe()
    for expected in [
        "row_key=cur_jpy_fee, problem=amount has more than 0 decimal places (the currency minor unit)",
        "row_key=cur_kwd_fee, problem=amount has more than 3 decimal places (the currency minor unit)",
        "row_key=cur_usd_fee, problem=amount has more than 2 decimal places (the currency minor unit)",
        "row_key=cur_jpy_credit, problem=amount has more than 0 decimal places (the currency minor unit)",
        "row_key=cur_kwd_credit, problem=amount has more than 3 decimal places (the currency minor unit)",
        "row_key=rc_clf, problem=currency has a minor unit finer than the 3 decimal places money keeps",
    ]:
        assert expected in text, f"missing: {expected}\n{text}"


# -- one table of minor units ---------------------------------------------------------------------


class _Returned(Exception):
    pass


def _macro_exceptions() -> dict[int, list[str]]:
    """The table of macros/types.sql's currency_minor_unit_exceptions(), rendered by Jinja."""
    text = (REPO / "macros" / "types.sql").read_text()
    block = re.search(r"{% macro currency_minor_unit_exceptions\(\) -%}.*?{%- endmacro %}", text, re.S).group(0)

    def _return(value):
        raise _Returned(value)

    module = jinja2.Environment().from_string(block, globals={"return": _return}).module
    try:
        module.currency_minor_unit_exceptions()
    except _Returned as returned:
        return returned.args[0]
    raise AssertionError("currency_minor_unit_exceptions() returned nothing")


def test_sql_and_python_share_one_table_of_minor_units():
    table = _macro_exceptions()
    assert {places: set(codes) for places, codes in table.items()} == {
        0: set(currency.ZERO_DECIMAL),
        3: set(currency.THREE_DECIMAL),
        4: set(currency.FOUR_DECIMAL),
    }


def test_money_keeps_the_finest_minor_unit_rated():
    """money_scale() is the finest minor unit billed; only the 4-place units of account are refused."""
    text = (REPO / "macros" / "types.sql").read_text()
    scale = int(re.search(r"{% macro money_scale\(\) %}(\d+){% endmacro %}", text).group(1))
    assert scale == max(places for places in _macro_exceptions() if places < 4) == currency.MONEY_SCALE == 3


def test_terminal_tables_show_money_exactly_with_cents_at_least():
    """`billing status` and the demo summary know no currency per cell: money (3 places stored) is shown
    exactly with at least 2 places, as before D70 for USD; other numbers as they are."""
    assert [cell(D(v)) for v in ("12.340", "2.501", "1235.000", "0.000", "10.0000000000")] == [
        "12.34",
        "2.501",
        "1235.00",
        "0.00",
        "10.0000000000",
    ]


# -- a store written before D70 -------------------------------------------------------------------


def test_a_store_with_two_place_money_is_widened_and_its_invoices_read_the_same(make_project, tmp_path):
    """A database built by the code before D70 (money DECIMAL(38, 2)) keeps working: its store's money
    columns are widened in place, its invoices read and export as before, KWD invoices keep 3 places."""
    p = make_project()
    types = p.dir / "macros" / "types.sql"
    current = types.read_text()
    types.write_text(
        current.replace("{% macro money_scale() %}3{% endmacro %}", "{% macro money_scale() %}2{% endmacro %}")
    )
    seeds = seed_rows()
    usd_only = {name: [r for r in rows if "cur_usd" in json.dumps(r)] for name, rows in seeds.items()}
    usd_only["products"] = seeds["products"]
    p.metrics(METRICS).seeds(**usd_only)
    p.ingest([e for e in events() if e["customer_id"] == "c_cur_usd"], loaded_at="2025-01-11T00:00:00Z")
    p.build(as_of="2025-02-03T00:00:00Z")

    def money_scales() -> set:
        """The scales of the stores' money columns (the alert store's current_value too: its model
        appends new columns but would round a wider value into the old type, silently)."""
        return {
            r["numeric_scale"]
            for r in p.query(
                "select numeric_scale from information_schema.columns where (table_name = 'invoice_store' "
                "and column_name in ('subtotal', 'credits_applied', 'commits_applied', 'total', 'amount', 'drawn_amount'))"
                " or (table_name = 'alert_state_changes' and column_name = 'current_value')"
            )
        }

    def export(name: str) -> list[str]:
        out = tmp_path / f"{name}.csv"
        assert cli(p, "export", "invoices", "--period", "2025-01", "--format", "csv", "--out", str(out)).exit_code == 0
        return [line for line in out.read_text().splitlines() if "cur_usd" in line]

    assert money_scales() == {2}
    stored_before = p.query(
        "select * from main.invoice_store order by invoice_id, record_type, line_item_id, balance_id"
    )
    assert stored_before and {r["contract_id"] for r in stored_before} == {"cur_usd"}
    exported_before = export("before")

    types.write_text(current)  # the code of D70, with the catalog's JPY and KWD contracts
    p.release()
    p._dbt = None  # parsed again: the macro changed
    p.seeds(**seeds)
    p.ingest([e for e in events() if e["customer_id"] != "c_cur_usd"], loaded_at="2025-01-11T00:00:00Z")
    p.build(as_of="2025-03-03T00:00:00Z")

    assert money_scales() == {3}
    stored_after = p.query(
        "select * from main.invoice_store where stored_by_invocation_id = ? "
        "order by invoice_id, record_type, line_item_id, balance_id",
        [stored_before[0]["stored_by_invocation_id"]],
    )
    assert stored_after == stored_before  # the same rows, the same values (12.34 is 12.340)
    assert export("after") == exported_before
    kwd = p.query("select amount from main.invoice_store where contract_id = 'cur_kwd' and product_id = 'cur_storage'")
    assert [r["amount"] for r in kwd] == [D("1234.568")]
