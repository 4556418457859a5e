"""An independent pure-Python reference of the rating rules, written from DATA_CONTRACT.md
(semantics 2 to 7) and DECISIONLOG.md, not from the SQL. Used to check the dbt models on
randomized catalogs and usage.

Scope: one contract with MONTHLY / FIRST_OF_MONTH billing periods; USAGE products with FLAT,
TIERED, VOLUME or PACKAGE rates, dated rate changes, conversion and rounding; entitlement,
MULTIPLIER and OVERWRITE overrides by product; metrics COUNT, SUM, MAX, UNIQUE, LATEST, and SQL
metrics (their query's Python equivalent, with a group-key column as a structured group key);
SUBSCRIPTION products (ADVANCE / ARREARS, prorated by days); COMPOSITE products (PERCENTAGE of the
lines of listed components on the same USAGE invoice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

TEN_PLACES = Decimal("1e-10")
# ISO 4217 minor units of the currencies the random cases use (DECISIONLOG D20); 2 for the rest
MINOR_UNITS = {"JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}


def money(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-up to the currency's minor unit."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2)), ROUND_HALF_UP)


@dataclass(frozen=True)
class Metric:
    name: str
    event_type: str
    aggregation: str  # count | sum | max | unique | latest
    property: str | None
    # a SQL metric: its query, which computes `aggregation` of `property` over a line's events
    # (DECISIONLOG D23); its group-key columns are properties of the same names
    sql: str | None = None


@dataclass
class Rate:
    starting_at: datetime
    ending_before: datetime | None
    rate_type: str  # FLAT | TIERED | VOLUME | PACKAGE
    price: Decimal | None = None
    tiers: list[tuple[Decimal | None, Decimal]] = field(default_factory=list)  # (size, price)
    package_size: Decimal | None = None
    entitled: bool = True
    group: str | None = None  # the pricing group value this rate is for (None: the default rate)


@dataclass
class Override:
    override_id: str
    starting_at: datetime
    ending_before: datetime | None
    kind: str  # ENTITLEMENT | MULTIPLIER | OVERWRITE
    entitled: bool | None = None
    multiplier: Decimal | None = None
    price: Decimal | None = None  # OVERWRITE: FLAT at this price
    priority: int | None = None


@dataclass
class Product:
    product_id: str
    metric: Metric
    rates: list[Rate]
    overrides: list[Override] = field(default_factory=list)
    conversion: tuple[str, Decimal] | None = None  # (MULTIPLY|DIVIDE, factor)
    rounding: tuple[int, str] | None = None  # (places, ROUND_UP|ROUND_DOWN|ROUND_HALF_UP)
    pricing_key: str | None = None  # pricing_group_key (one key), a group key of the metric
    tags: list[str] = field(default_factory=list)


@dataclass
class Event:
    transaction_id: str
    event_type: str
    at: datetime
    properties: dict


@dataclass
class Subscription:
    quantity: Decimal
    starting_at: datetime
    ending_before: datetime | None
    schedule: str  # ADVANCE | ARREARS
    prorated: bool


@dataclass
class SubscriptionProduct:
    product_id: str
    rates: list[Rate]  # SUBSCRIPTION rates: price per service period
    frequency_months: int
    subscriptions: list[Subscription]
    tags: list[str] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)


@dataclass
class CompositeProduct:
    product_id: str
    rates: list[Rate]  # PERCENTAGE rates: price is the fraction
    components: list[str]  # product ids
    overrides: list[Override] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class Contract:
    starting_at: datetime
    ending_before: datetime | None
    products: list[Product]
    subscription_products: list[SubscriptionProduct] = field(default_factory=list)
    composites: list[CompositeProduct] = field(default_factory=list)
    balances: list = field(default_factory=list)  # reference_balances.Balance
    currency: str = "USD"  # its rate card's


def _in(at: datetime, start: datetime, end: datetime | None) -> bool:
    return start <= at and (end is None or at < end)


def _add_month(d: datetime) -> datetime:
    return d.replace(year=d.year + (d.month == 12), month=d.month % 12 + 1)


def billing_periods(contract: Contract, as_of: datetime) -> list[tuple[datetime, datetime]]:
    """Monthly, aligned to the first of the month, clipped to the contract, started by as_of."""
    periods = []
    nominal = contract.starting_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while nominal <= as_of and (contract.ending_before is None or nominal < contract.ending_before):
        start = max(nominal, contract.starting_at)
        end = _add_month(nominal)
        if contract.ending_before is not None:
            end = min(end, contract.ending_before)
        if start < end and start <= as_of:
            periods.append((start, end))
        nominal = _add_month(nominal)
    return periods


def aggregate(metric: Metric, events: list[Event]) -> Decimal:
    if metric.aggregation == "count":
        return Decimal(len(events))
    values = [e.properties[metric.property] for e in events]
    if metric.aggregation == "unique":
        return Decimal(len({str(v) for v in values}))
    numbers = [Decimal(str(v)) for v in values]
    if metric.aggregation == "sum":
        return sum(numbers, Decimal(0))
    if metric.aggregation == "max":
        return max(numbers)
    latest = max(events, key=lambda e: (e.at, e.transaction_id))
    return Decimal(str(latest.properties[metric.property]))


def convert_and_round(product: Product, quantity: Decimal) -> Decimal:
    if product.conversion:
        operation, factor = product.conversion
        quantity = (
            quantity * factor if operation == "MULTIPLY" else (quantity / factor).quantize(TEN_PLACES, ROUND_HALF_UP)
        )
    if product.rounding:
        places, method = product.rounding
        mode = {"ROUND_UP": ROUND_CEILING, "ROUND_DOWN": ROUND_FLOOR, "ROUND_HALF_UP": ROUND_HALF_UP}[method]
        quantity = quantity.quantize(Decimal(1).scaleb(-places), mode)
    return quantity


def price(rate: Rate, multiplier: Decimal, quantity: Decimal) -> Decimal:
    def scaled(p: Decimal) -> Decimal:
        return (p * multiplier).quantize(TEN_PLACES, ROUND_HALF_UP)

    if rate.rate_type == "FLAT":
        return quantity * scaled(rate.price)
    if rate.rate_type == "PACKAGE":
        packages = (quantity / rate.package_size).to_integral_value(ROUND_CEILING)
        return packages * scaled(rate.price)
    floor, amount = Decimal(0), Decimal(0)
    for index, (size, tier_price) in enumerate(rate.tiers):
        ceiling = None if size is None else floor + size
        if rate.rate_type == "TIERED":
            if quantity > floor:  # graduated: the units that fall in this tier
                upper = quantity if ceiling is None else min(quantity, ceiling)
                amount += (upper - floor) * scaled(tier_price)
        elif (quantity > floor or index == 0) and (ceiling is None or quantity <= ceiling):
            return quantity * scaled(tier_price)  # VOLUME: every unit at the tier the total reaches
        if ceiling is None:
            break
        floor = ceiling
    return amount


def _ranked_overwrite(overrides: list[Override]) -> Override | None:
    candidates = [o for o in overrides if o.kind == "OVERWRITE"]
    candidates.sort(key=lambda o: (o.priority is None, o.priority or 0, o.override_id))
    return candidates[0] if candidates else None


def _entitlement(rate: Rate, overrides: list[Override]) -> bool:
    candidates = [o for o in overrides if o.kind == "ENTITLEMENT"]
    if not candidates:
        return rate.entitled
    # lowest priority (empty last), then the latest start, then override_id
    candidates.sort(key=lambda o: (o.priority is None, o.priority or 0, -o.starting_at.timestamp(), o.override_id))
    return bool(candidates[0].entitled)


def _add_months(d: datetime, months: int) -> datetime:
    for _ in range(months):
        d = _add_month(d)
    return d


def _subscription_price(rate: Rate, active: list[Override]) -> Decimal:
    """An OVERWRITE's price replaces the rate's; else the lowest MULTIPLIER scales it (10 places)."""
    overwrite = _ranked_overwrite(active)
    if overwrite is not None:
        return overwrite.price
    multipliers = [o.multiplier for o in active if o.kind == "MULTIPLIER"]
    if not multipliers:
        return rate.price
    return (rate.price * min(multipliers)).quantize(TEN_PLACES, ROUND_HALF_UP)


def subscription_fees(contract: Contract, sp: SubscriptionProduct, as_of: datetime):
    """(service_start, service_end, schedule, quantity, amount) for each fee of the product."""
    fees = []
    anchor = contract.starting_at.replace(day=1)
    for sub in sp.subscriptions:
        start = max(sub.starting_at, contract.starting_at)
        ends = [e for e in (sub.ending_before, contract.ending_before) if e is not None]
        end = min(ends) if ends else None
        nominal = anchor
        while nominal <= as_of and (end is None or nominal < end):
            nominal_end = _add_months(nominal, sp.frequency_months)
            s, e = max(nominal, start), (nominal_end if end is None else min(nominal_end, end))
            if s < e and s <= as_of:
                rate = next((r for r in sp.rates if _in(s, r.starting_at, r.ending_before)), None)
                # the overrides in effect at the service start, as the rate (semantics 7, D21)
                active = [o for o in sp.overrides if _in(s, o.starting_at, o.ending_before)]
                if rate is not None and _entitlement(rate, active):
                    unit_price = _subscription_price(rate, active)
                    fraction = Decimal(1)
                    if sub.prorated:
                        fraction = (Decimal((e - s).days) / Decimal((nominal_end - nominal).days)).quantize(
                            TEN_PLACES, ROUND_HALF_UP
                        )
                    fee = (sub.quantity * unit_price).quantize(TEN_PLACES, ROUND_HALF_UP) * fraction
                    fees.append((s, e, sub.schedule, sub.quantity, money(fee, contract.currency)))
            nominal = nominal_end
    return fees


def _price_line(product: Product, rate: Rate, active: list[Override], events: list[Event], currency: str) -> tuple:
    """(quantity, amount) of one usage line: aggregate, convert, round, price after overrides."""
    quantity = convert_and_round(product, aggregate(product.metric, events))
    overwrite = _ranked_overwrite(active)
    if overwrite is not None:
        effective, multiplier = Rate(rate.starting_at, rate.ending_before, "FLAT", overwrite.price), Decimal(1)
    else:
        multipliers = [o.multiplier for o in active if o.kind == "MULTIPLIER"]
        effective, multiplier = rate, (min(multipliers) if multipliers else Decimal(1))
    return quantity, money(price(effective, multiplier, quantity), currency)


def rate_contract(contract: Contract, events: list[Event], as_of: datetime) -> dict:
    """Returns {"lines": {(product_id, line_start): [(quantity, amount), ...]},
                "invoices": {period_start: total}, "scheduled": {issued_at: total},
                "periods": [(start, end), ...],
                "invoice_lines": {period_start: [(product_id, line_start, line_end, amount), ...]}}
    (invoice totals before credits and commits: see reference_balances)."""
    lines: dict = {}
    invoice_lines: dict = {}
    invoices: dict = {}
    scheduled: dict = {}
    attributed = [e for e in events if _in(e.at, contract.starting_at, contract.ending_before)]
    periods = billing_periods(contract, as_of)
    arrears_by_period: dict = {p: [] for p in periods}
    for sp in contract.subscription_products:
        for s, e, schedule, quantity, amount in subscription_fees(contract, sp, as_of):
            if schedule == "ADVANCE":
                lines.setdefault((sp.product_id, s), []).append((quantity, amount))
                scheduled[s] = scheduled.get(s, Decimal("0.00")) + amount
            else:
                period = next((p for p in periods if p[0] < e <= p[1]), None)
                if period is not None:
                    lines.setdefault((sp.product_id, s), []).append((quantity, amount))
                    arrears_by_period[period].append((sp.product_id, s, amount))
                    invoice_lines.setdefault(period[0], []).append((sp.product_id, s, e, amount))
    for period_start, period_end in periods:
        total = Decimal("0.00")
        period_lines = [(pid, s, amount) for pid, s, amount in arrears_by_period[(period_start, period_end)]]
        total += sum((amount for _, _, amount in period_lines), Decimal(0))
        for product in contract.products:
            points = {period_start, period_end}
            for item in [*product.rates, *product.overrides]:
                for point in (item.starting_at, item.ending_before):
                    if point is not None and period_start < point < period_end:
                        points.add(point)
            bounds = sorted(points)
            for seg_start, seg_end in zip(bounds, bounds[1:], strict=False):
                in_effect = {r.group: r for r in product.rates if _in(seg_start, r.starting_at, r.ending_before)}
                active = [o for o in product.overrides if _in(seg_start, o.starting_at, o.ending_before)]
                metric = product.metric
                matched = [
                    e
                    for e in attributed
                    if _in(e.at, seg_start, seg_end)
                    and e.event_type == metric.event_type
                    and (metric.property is None or e.properties.get(metric.property) is not None)
                ]
                # pricing groups: an event's group value with a rate of its own, else the default rate
                buckets: dict = {}
                for e in matched:
                    value = e.properties.get(product.pricing_key) if product.pricing_key else None
                    buckets.setdefault(value if value in in_effect else None, []).append(e)
                for group, group_events in sorted(buckets.items(), key=lambda kv: str(kv[0])):
                    rate = in_effect.get(group)
                    if rate is None or not _entitlement(rate, active):
                        continue
                    line = _price_line(product, rate, active, group_events, contract.currency)
                    lines.setdefault((product.product_id, seg_start), []).append(line)
                    period_lines.append((product.product_id, seg_start, line[1]))
                    invoice_lines.setdefault(period_start, []).append((product.product_id, seg_start, seg_end, line[1]))
                    total += line[1]
        for composite in contract.composites:
            points = {period_start, period_end}
            for item in [*composite.rates, *composite.overrides]:
                for point in (item.starting_at, item.ending_before):
                    if point is not None and period_start < point < period_end:
                        points.add(point)
            bounds = sorted(points)
            for seg_start, seg_end in zip(bounds, bounds[1:], strict=False):
                rate = next((r for r in composite.rates if _in(seg_start, r.starting_at, r.ending_before)), None)
                if rate is None:
                    continue
                active = [o for o in composite.overrides if _in(seg_start, o.starting_at, o.ending_before)]
                if not _entitlement(rate, active):
                    continue
                parts = [
                    amount
                    for pid, s, amount in period_lines
                    if pid in composite.components and seg_start <= s < seg_end
                ]
                if not parts:
                    continue
                overwrite = _ranked_overwrite(active)
                if overwrite is not None:
                    fraction = overwrite.price
                else:
                    multipliers = [o.multiplier for o in active if o.kind == "MULTIPLIER"]
                    fraction = (rate.price * (min(multipliers) if multipliers else Decimal(1))).quantize(
                        TEN_PLACES, ROUND_HALF_UP
                    )
                base = sum(parts, Decimal(0))
                amount = money(base * fraction, contract.currency)
                lines.setdefault((composite.product_id, seg_start), []).append((base, amount))
                invoice_lines.setdefault(period_start, []).append((composite.product_id, seg_start, seg_end, amount))
                total += amount
        invoices[period_start] = total
    return {
        "lines": lines,
        "invoices": invoices,
        "scheduled": scheduled,
        "periods": periods,
        "invoice_lines": invoice_lines,
    }
