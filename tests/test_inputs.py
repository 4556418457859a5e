"""Inputs as the contract states them: seeds read by header name, a raw table with only the
contract's six columns, and a streaming loader (one loaded_at per row) (issue #15)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from billing_cli.errors import BillingError
from billing_cli.ingest import ingest
from conftest import D

CATALOG = dict(
    customers=[{"customer_id": "c1", "name": "One"}],
    products=[{"product_id": "p1", "name": "Calls", "type": "USAGE", "billable_metric": "calls"},
              {"product_id": "credits", "name": "Credits", "type": "FIXED"}],
    rate_cards=[{"rate_card_id": "rc", "name": "List"}],
    rate_card_rates=[{"rate_card_id": "rc", "product_id": "p1", "starting_at": "2025-01-01", "rate_type": "FLAT",
                      "price": "0.5"}],
    contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "name": "K",
                "starting_at": "2025-01-01T00:00:00Z"}],
)
METRICS = "billable_metrics:\n  - {name: calls, event_type: call, aggregation: count}\n"
# a prepaid commit of $100 of usage, bought for $80 on Jan 25
COMMITS = [{"commit_id": "pc", "contract_id": "k1", "type": "PREPAID", "product_id": "credits", "name": "Prepaid",
            "amount": "100", "invoice_amount": "80", "access_starting_at": "2025-01-01",
            "access_ending_before": "2026-01-01", "invoice_at": "2025-01-25"}]


def calls(n: int, day: str = "2025-01-15") -> list[dict]:
    return [{"transaction_id": f"t{i}", "customer_id": "c1", "event_type": "call",
             "timestamp": f"{day}T00:00:00Z", "properties": {}} for i in range(n)]


def totals(project) -> list[tuple]:
    return [(r["invoice_type"], r["period_starting_at"] or r["issued_at"], r["total"]) for r in project.invoices()]


def rewrite_csv(path: Path, rename: dict[str, str] = (), order: list[str] | None = None) -> None:
    """Rewrite a seed CSV: rename header columns and/or reorder columns (header and values together)."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    header = rows[0]
    order = order or header
    index = [header.index(c) for c in order]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([dict(rename).get(c, c) for c in order])
    for row in rows[1:]:
        writer.writerow([row[i] for i in index])
    path.write_text(out.getvalue())


# -- 1. seeds load by header name ---------------------------------------------------------------

def test_seed_columns_load_by_header_name_on_an_existing_database(make_project):
    p = make_project().seeds(**CATALOG, contract_commits=COMMITS).metrics(METRICS)
    p.ingest(calls(220), loaded_at="2025-01-16T00:00:00Z")
    # before the purchase is invoiced: Jan usage 220 x $0.50 = $110.00, $100 drawn from the commit
    p.build(as_of="2025-01-20T00:00:00Z")
    assert totals(p) == [("USAGE", datetime(2025, 1, 1), D("10.00"))]
    # the same data with amount and invoice_amount swapped in the file (header and values together)
    path = p.dir / "seeds" / "contract_commits.csv"
    header = path.read_text().splitlines()[0].split(",")
    a, b = header.index("amount"), header.index("invoice_amount")
    header[a], header[b] = header[b], header[a]
    rewrite_csv(path, order=header)
    assert path.read_text().splitlines()[0].split(",")[a] == "invoice_amount"
    # (the draft is recomputed, the purchase is invoiced now: $80, not $100)
    p.build(as_of="2025-01-26T00:00:00Z")
    assert sorted(totals(p)) == [("SCHEDULED", datetime(2025, 1, 25), D("80.00")),
                                 ("USAGE", datetime(2025, 1, 1), D("10.00"))]
    assert p.query("select amount, invoice_amount from main.stg_contract_commits") == [
        {"amount": D("100"), "invoice_amount": D("80")}]


@pytest.mark.parametrize("fresh", [True, False], ids=["fresh", "existing"])
def test_seed_with_a_misspelled_or_extra_column_fails_naming_file_and_column(make_project, fresh):
    p = make_project().seeds(**CATALOG, contract_commits=COMMITS).metrics(METRICS)
    if not fresh:
        p.build(as_of="2025-01-20T00:00:00Z")
    path = p.dir / "seeds" / "contract_commits.csv"
    original = path.read_text()
    rewrite_csv(path, rename={"amount": "ammount"})
    result = p.build(as_of="2025-01-20T00:00:00Z", expect_success=False)
    problems = "\n".join(result.problems)
    assert "seed=contract_commits.csv, problem=missing column(s) amount; unknown column(s) ammount" in problems, \
        problems
    # nothing was rated: everything downstream of the seed is skipped
    assert result.counts.get("skipped", 0) > 0, result.describe()
    if fresh:
        assert p.query("select table_name from information_schema.tables where table_name in "
                       "('stg_contract_commits', 'int_usage_line_items', 'fct_invoices')") == []
    # an extra column
    path.write_text("\n".join(line + (",notes" if i == 0 else ",x") for i, line in
                              enumerate(original.splitlines())) + "\n")
    result = p.build(as_of="2025-01-20T00:00:00Z", expect_success=False)
    assert "seed=contract_commits.csv, problem=unknown column(s) notes" in "\n".join(result.problems), \
        result.problems
    path.write_text(original)
    p.build(as_of="2025-01-20T00:00:00Z")
    p.build(as_of="2025-01-26T00:00:00Z")
    assert [r["total"] for r in p.invoices() if r["invoice_type"] == "SCHEDULED"] == [D("80.00")]
