"""An independent pure-Python reference of credits and commits (DATA_CONTRACT semantics 8 and 9,
DECISIONLOG D25-D28), written from the contract, not from the SQL: it walks invoices in period
order and, on each, lets the balances draw the eligible charges one after another, line by line,
exactly as the contract words it. (The SQL instead runs one pass per balance over all invoices.)

Input: the charge lines per USAGE invoice that reference_rating.rate_contract returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass
class Balance:
    balance_id: str
    kind: str  # CREDIT | PREPAID | POSTPAID
    amount: Decimal
    starting_at: datetime
    ending_before: datetime | None
    invoice_at: datetime | None = None  # PREPAID: purchase date; None = complimentary
    invoice_amount: Decimal | None = None  # PREPAID purchase price; None = amount
    product_ids: list[str] | None = None
    product_tags: list[str] | None = None
    priority: int | None = None
    drawn: dict = field(default_factory=dict)  # period_start -> amount drawn on that invoice

    @property
    def is_paid(self) -> bool:
        return self.kind == "PREPAID" and self.invoice_at is not None

    def drawdown_key(self):
        """Postpaid last; priority (empty last); credits and complimentary commits before paid ones;
        earliest access end (empty last); id."""
        return (
            self.kind == "POSTPAID",
            self.priority is None,
            self.priority or 0,
            self.is_paid,
            self.ending_before is None,
            self.ending_before or datetime.max,
            self.balance_id,
        )

    def applies_to(self, product_id: str, tags: list[str]) -> bool:
        if self.product_ids is None and self.product_tags is None:
            return True
        return product_id in (self.product_ids or []) or bool(set(tags) & set(self.product_tags or []))

    def within_window(self, start: datetime, end: datetime) -> bool:
        return start >= self.starting_at and (self.ending_before is None or end <= self.ending_before)


def apply_balances(
    balances: list[Balance],
    periods: list[tuple[datetime, datetime]],
    invoice_lines: dict,
    product_tags: dict,
    contract_ending_before: datetime | None,
    as_of: datetime,
) -> dict:
    """Returns {"applied": {(period_start, balance_id): amount}, "true_ups": {(period_start, balance_id): amount},
    "balances": {balance_id: (consumed, expired, trued_up, remaining)}, "purchases": {issued_at: amount}}."""
    order = sorted(balances, key=Balance.drawdown_key)
    left = {b.balance_id: b.amount for b in balances}
    applied: dict = {}
    for period_start, _ in sorted(periods):
        # each charge line with what is left of it, in line order (start, product, end)
        lines = [
            [product_id, start, end, amount]
            for product_id, start, end, amount in invoice_lines.get(period_start, [])
            if amount > 0
        ]
        lines.sort(key=lambda line: (line[1], line[0], line[2]))
        for b in order:
            for line in lines:
                product_id, start, end, residual = line
                if residual <= 0 or left[b.balance_id] <= 0:
                    continue
                if not (b.applies_to(product_id, product_tags.get(product_id, [])) and b.within_window(start, end)):
                    continue
                take = min(residual, left[b.balance_id])
                line[3] -= take
                left[b.balance_id] -= take
                b.drawn[period_start] = b.drawn.get(period_start, ZERO) + take
        for b in order:
            if b.kind != "POSTPAID" and b.drawn.get(period_start):
                applied[(period_start, b.balance_id)] = b.drawn[period_start]

    true_ups: dict = {}
    summary: dict = {}
    for b in balances:
        consumed = sum(b.drawn.values(), ZERO)
        expired = trued_up = ZERO
        if b.kind == "POSTPAID":
            ends = min(e for e in (b.ending_before, contract_ending_before) if e is not None)
            period = next((p for p in periods if p[0] < ends <= p[1]), None)  # only started periods exist
            if period is not None and b.amount > consumed:
                trued_up = b.amount - consumed
                true_ups[(period[0], b.balance_id)] = trued_up
        elif b.ending_before is not None and b.ending_before <= as_of:
            expired = b.amount - consumed
        summary[b.balance_id] = (consumed, expired, trued_up, b.amount - consumed - expired - trued_up)
    purchases: dict = {}
    for b in balances:
        if b.is_paid and b.invoice_at <= as_of:
            price = b.amount if b.invoice_amount is None else b.invoice_amount
            purchases[b.invoice_at] = purchases.get(b.invoice_at, ZERO) + price
    return {"applied": applied, "true_ups": true_ups, "balances": summary, "purchases": purchases}
