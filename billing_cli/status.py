"""`billing status CUSTOMER`: live spend of the current billing period, forecast and balances."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from .currency import format_money, format_number
from .db import connect, has_table
from .errors import BillingError
from .tables import cell, render_table

SPEND = """
select contract_id, currency, period_starting_at, period_ending_before, as_of, days_elapsed, days_in_period,
       product_id, product_name, spend_to_date, daily_run_rate, forecast_period_spend,
       contract_credit_balance_remaining, contract_commit_balance_remaining
from main.fct_customer_spend
where customer_id = ?
order by contract_id, product_id nulls last, product_name
"""
BALANCES = """
select contract_id, name, balance_type, status, amount, consumed_amount, remaining_amount, access_ending_before
from main.fct_balances
where customer_id = ? and status <> 'ENDED'
order by contract_id, drawdown_rank
"""
ALERTS = """
select alert_id, alert_type, threshold, current_value, fired_at, currency
from main.fct_alerts
where customer_id = ? and state = 'in_alarm'
order by fired_at, alert_id
"""


def find_customer(con, customer_id: str) -> tuple[str, str]:
    """(customer_id, name) of a customer of the customers seed; a clear error for any other id."""
    customer = con.execute(
        "select customer_id, name from main.stg_customers where customer_id = ?", [customer_id]
    ).fetchone()
    if customer is None:
        raise BillingError(f"unknown customer {customer_id!r} (not in the customers seed)")
    return customer


def customer_status(db_path: Path, customer_id: str) -> str:
    con = connect(db_path, read_only=True)
    try:
        if not has_table(con, "main", "fct_customer_spend"):
            raise BillingError(f"{db_path}: no fct_customer_spend yet (run `billing build` first)")
        customer = find_customer(con, customer_id)
        spend = con.execute(SPEND, [customer_id]).fetchall()
        balances = con.execute(BALANCES, [customer_id]).fetchall()
        alerts = con.execute(ALERTS, [customer_id]).fetchall() if has_table(con, "main", "fct_alerts") else []
    finally:
        con.close()
    return render_status(customer, spend, balances, alerts)


def amount_text(value: Decimal | None, currency: str | None) -> str | None:
    """An amount as a person reads it (DECISIONLOG D68): money in its currency
    (`$500.00`, `¥1,500`), a usage quantity as the exact number (`10,000`), never rounded."""
    if value is None:
        return None
    return format_money(value, currency) if currency else format_number(value)


def render_status(customer: tuple, spend: list[tuple], balances: list[tuple], alerts: list[tuple]) -> str:
    customer_id, name = customer
    out = [f"Customer {customer_id} ({name})"]
    if not spend:
        out.append("  No billing period in progress (no contract in effect as of the last build).")
    contracts: dict[str, list[tuple]] = {}
    for row in spend:
        contracts.setdefault(row[0], []).append(row)
    for contract_id, rows in contracts.items():
        (_, currency, starts, ends, as_of, elapsed, days, *_rest) = rows[0]
        credit_left, commit_left = rows[0][12], rows[0][13]
        out.append("")
        out.append(
            f"Contract {contract_id}: period {cell(starts)} to {cell(ends)}, "
            f"day {Decimal(elapsed).quantize(Decimal('0.1')).normalize():f} of {Decimal(days).normalize():f}, "
            f"as of {as_of:%Y-%m-%d %H:%M} UTC ({currency})"
        )
        table = [
            (r[8] or "(nothing billed yet)", *(amount_text(v, currency) for v in r[9:12]))
            for r in rows
            if r[7] is not None or r[8]
        ]
        spent = sum((r[9] for r in rows), Decimal("0.00"))
        forecast = sum((r[11] for r in rows), Decimal("0.00"))
        table.append(("Total", amount_text(spent, currency), None, amount_text(forecast, currency)))
        headers = ["product", "spend to date", "daily run rate", "forecast to period end"]
        out.append(render_table(headers, table, right=frozenset({1, 2, 3})))
        left = [amount_text(amount, currency) for amount in (credit_left, commit_left)]
        out.append(f"  Remaining balances: credits {left[0]}, commits {left[1]}")
    if balances:
        out.append("")
        out.append("Balances:")
        out.append(
            render_table(
                ["contract", "balance", "type", "status", "amount", "used", "remaining", "ends"],
                [tuple(b) for b in balances],
            )
        )
    if alerts:
        out.append("")
        out.append("Alerts in alarm:")
        rows = [
            (alert_id, alert_type, amount_text(threshold, currency), amount_text(value, currency), fired_at)
            for alert_id, alert_type, threshold, value, fired_at, currency in alerts
        ]
        out.append(render_table(["alert", "type", "threshold", "value", "fired at"], rows))
    return "\n".join(out)
