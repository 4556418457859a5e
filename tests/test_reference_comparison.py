"""Randomized comparison of the dbt models with the pure-Python reference (tests/reference_rating.py).

Hypothesis supplies a seed per example (a failing seed is reported and can be replayed); from it
each build draws whole catalogs: each case is one customer with one contract, its own rate card (in
USD, JPY or KWD: amounts rounded to 2, 0 or 3 places) and products (rates with dated changes, FLAT/TIERED/VOLUME/PACKAGE, conversion and rounding,
pricing groups of a structured metric and of a SQL metric's group-key column,
entitlement/MULTIPLIER/OVERWRITE overrides; maybe a SUBSCRIPTION product with ADVANCE/ARREARS,
prorated subscriptions; maybe a COMPOSITE product over some of them), random usage, and up to four
credits and commits (PREPAID paid or complimentary, POSTPAID) with overlapping access windows,
product or tag restrictions and priorities, checked against tests/reference_balances.py. dbt costs seconds per build, so one
example batches CASES_PER_BUILD cases into a single build; MAX_BUILDS examples run per CI run.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import reference_balances as refb
import reference_rating as ref
from conftest import BillingTestProject, seed_csv
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

CASES_PER_BUILD = 170
MAX_BUILDS = 3
DAY0 = datetime(2025, 1, 1)
AS_OF = DAY0 + timedelta(days=160)

METRICS = [
    ref.Metric("m_count", "e_count", "count", None),
    ref.Metric("m_sum", "e_sum", "sum", "v"),
    ref.Metric("m_max", "e_max", "max", "v"),
    ref.Metric("m_unique", "e_unique", "unique", "u"),
    ref.Metric("m_latest", "e_latest", "latest", "v"),
    ref.Metric("m_gsum", "e_gsum", "sum", "v"),  # grouped by g: products may price by g
    # a SQL metric with a group-key column g: its products price by g (D23); distinct u per line
    ref.Metric(
        "m_sqlg",
        "e_sqlg",
        "unique",
        "u",
        sql="select properties.g as g, count(distinct properties.u) as value from events "
        "where event_type = 'e_sqlg' group by properties.g",
    ),
]
GROUPED_METRICS = ("m_gsum", "m_sqlg")
GROUP_VALUES = ["x", "y", "z", None]
METRICS_YAML = "billable_metrics:\n" + "".join(
    (
        f'  - {{name: {m.name}, sql: "{m.sql}"}}\n'
        if m.sql
        else f"  - {{name: {m.name}, event_type: {m.event_type}, aggregation: {m.aggregation}"
        + (f", property: {m.property}" if m.property else "")
        + (", group_keys: [g]" if m.name == "m_gsum" else "")
        + "}\n"
    )
    for m in METRICS
)

PRICES = [Decimal(p) for p in ("0", "0.01", "0.1", "0.25", "1", "1.5", "2.375", "0.0005", "12.345")]
# the rate card currency of the k-th case of a build: one in five bills in yen, one in KWD (D20)
CURRENCIES = ("USD", "JPY", "KWD", "USD", "USD")
VALUES = ["0", "1", "2.5", "10", "99.99", "1000", "3.14159"]


def day(n: int, hour: int = 0) -> datetime:
    return DAY0 + timedelta(days=n, hours=hour)


def maybe(rng: random.Random, make):
    return None if rng.random() < 0.5 else make()


def random_rates(rng: random.Random) -> list[ref.Rate]:
    def one(start, end):
        rate_type = rng.choice(["FLAT", "TIERED", "VOLUME", "PACKAGE"])
        if rate_type in ("TIERED", "VOLUME"):
            sizes = [Decimal(rng.choice([1, 2, 5, 10, 50])) for _ in range(rng.randint(0, 2))]
            tiers = [(size, rng.choice(PRICES)) for size in sizes] + [(None, rng.choice(PRICES))]
            return ref.Rate(start, end, rate_type, tiers=tiers)
        package = Decimal(rng.choice(["1", "3", "10", "2.5"])) if rate_type == "PACKAGE" else None
        return ref.Rate(start, end, rate_type, price=rng.choice(PRICES), package_size=package)

    split = maybe(rng, lambda: rng.randint(1, 150))
    if split is None:
        return [one(day(-60), None)]
    # a quarter of the rate changes come inside a day: events of that day are rated one by one, the
    # rest of the month by day (int_segment_quantities' buckets, DECISIONLOG D81)
    at = day(split, rng.choice([0, 0, 0, 13]))
    return [one(day(-60), at), one(at, None)]


def random_overrides(rng: random.Random, prices: list[Decimal] = PRICES) -> list[ref.Override]:
    """OVERWRITE prices from `prices` (a composite's are fractions: below 10, DECISIONLOG D55)."""
    result = []
    for i in range(rng.randint(0, 3)):
        start = day(rng.randint(-10, 120), rng.choice([0, 0, 0, 9]))
        end = maybe(rng, lambda start=start: start + timedelta(days=rng.randint(1, 60)))
        kind = rng.choice(["ENTITLEMENT", "MULTIPLIER", "OVERWRITE"])
        priority = maybe(rng, lambda: rng.randint(1, 3))
        if kind == "ENTITLEMENT":
            result.append(ref.Override(f"{i:02d}", start, end, kind, entitled=rng.random() < 0.5, priority=priority))
        elif kind == "MULTIPLIER":
            multiplier = Decimal(rng.choice(["0.5", "0.8", "1.25", "2"]))
            result.append(ref.Override(f"{i:02d}", start, end, kind, multiplier=multiplier))
        else:
            result.append(ref.Override(f"{i:02d}", start, end, kind, price=rng.choice(prices), priority=priority))
    return result


def override_row(o: ref.Override, contract_id: str, product_id: str, rate_type: str | None = "FLAT") -> dict:
    """The contract_overrides.csv row of a reference override (an OVERWRITE is FLAT at its price)."""
    return {
        "override_id": o.override_id,
        "contract_id": contract_id,
        "product_id": product_id,
        "starting_at": iso(o.starting_at),
        "ending_before": iso(o.ending_before),
        "type": {"ENTITLEMENT": None}.get(o.kind, o.kind),
        "entitled": o.entitled,
        "multiplier": None if o.multiplier is None else str(o.multiplier),
        "rate_type": rate_type if o.kind == "OVERWRITE" else None,
        "price": None if o.price is None else str(o.price),
        "priority": None if o.priority is None else str(o.priority),
    }


def random_product(rng: random.Random) -> ref.Product:
    conversion = maybe(
        rng, lambda: (rng.choice(["MULTIPLY", "DIVIDE"]), Decimal(rng.choice(["2", "0.5", "0.001", "3", "1024", "7"])))
    )
    rounding = maybe(rng, lambda: (rng.randint(0, 3), rng.choice(["ROUND_UP", "ROUND_DOWN", "ROUND_HALF_UP"])))
    metric = rng.choice(METRICS)
    rates = random_rates(rng)
    pricing_key = None
    # a SQL metric's group key must be a key of its products: they always price by g
    if metric.name in GROUPED_METRICS and (metric.sql or rng.random() < 0.7):
        pricing_key = "g"
        if rng.random() < 0.2:
            rates = []  # no default rate: events of other groups are not billed
        for value in rng.sample(["x", "y"], rng.randint(1, 2)):
            for r in random_rates(rng):
                r.group = value
                rates.append(r)
    return ref.Product("", metric, rates, random_overrides(rng), conversion, rounding, pricing_key)


def random_subscription_product(rng: random.Random, contract_start: datetime) -> ref.SubscriptionProduct:
    split = maybe(rng, lambda: rng.randint(1, 150))
    rates = [ref.Rate(day(-60), None if split is None else day(split), "SUBSCRIPTION", price=rng.choice(PRICES))]
    if split is not None:
        rates.append(ref.Rate(day(split), None, "SUBSCRIPTION", price=rng.choice(PRICES)))
    subscriptions = []
    for _ in range(rng.randint(1, 2)):
        start = contract_start + timedelta(days=rng.randint(-10, 60))
        end = maybe(rng, lambda start=start: start + timedelta(days=rng.randint(10, 200)))
        subscriptions.append(
            ref.Subscription(
                Decimal(rng.choice(["1", "2", "5", "2.5"])),
                start,
                end,
                rng.choice(["ADVANCE", "ARREARS"]),
                rng.random() < 0.5,
            )
        )
    return ref.SubscriptionProduct("", rates, rng.choice([1, 3, 12]), subscriptions, overrides=random_overrides(rng))


def random_composite(rng: random.Random, component_count: int) -> ref.CompositeProduct:
    fractions = [Decimal(f) for f in ("0.05", "0.1", "0.25", "0.5", "1")]
    split = maybe(rng, lambda: rng.randint(1, 150))
    rates = [ref.Rate(day(-60), None if split is None else day(split), "PERCENTAGE", price=rng.choice(fractions))]
    if split is not None:
        rates.append(ref.Rate(day(split), None, "PERCENTAGE", price=rng.choice(fractions)))
    picked = sorted(rng.sample(range(component_count), rng.randint(1, component_count)))
    return ref.CompositeProduct("", rates, [str(i) for i in picked], random_overrides(rng, fractions))


def random_balances(rng: random.Random, contract: ref.Contract) -> list[refb.Balance]:
    """Credits and commits whose windows overlap the contract; restrictions name products by their
    position ("p0", "s0", "x0"), resolved to ids in write_cases."""
    refs = (
        [f"p{j}" for j in range(len(contract.products))]
        + [f"s{j}" for j in range(len(contract.subscription_products))]
        + [f"x{j}" for j in range(len(contract.composites))]
    )
    month_starts = [datetime(2025, m, 1) for m in range(1, 7)]
    result = []
    for i in range(rng.choice([0, 0, 1, 2, 3, 4])):
        kind = rng.choice(["CREDIT", "PREPAID", "POSTPAID"])
        aligned = rng.random() < 0.6
        start = rng.choice(month_starts) if aligned else contract.starting_at + timedelta(days=rng.randint(-20, 90))
        if contract.ending_before is not None and start >= contract.ending_before:
            start = contract.starting_at
        if kind != "POSTPAID" and rng.random() < 0.3:
            end = None
        elif aligned and start.day == 1:
            end = ref._add_months(start, rng.randint(1, 4))
        else:
            end = start + timedelta(days=rng.randint(10, 150))
        if end is not None and end <= contract.starting_at:
            end = contract.starting_at + timedelta(days=31)
        restriction = rng.random()
        product_ids = rng.sample(refs, rng.randint(1, len(refs))) if restriction < 0.3 else None
        product_tags = [rng.choice(["a", "b"])] if 0.3 <= restriction < 0.5 else None
        paid = kind == "PREPAID" and rng.random() < 0.5
        result.append(
            refb.Balance(
                f"{i:02d}",
                kind,
                Decimal(rng.choice(["5", "10", "25.50", "100", "0.01", "1000", "3.33"])),
                start,
                end,
                invoice_at=contract.starting_at if paid else None,
                invoice_amount=maybe(rng, lambda: Decimal(rng.choice(["1", "80.25"]))) if paid else None,
                product_ids=product_ids,
                product_tags=product_tags,
                priority=maybe(rng, lambda: rng.randint(1, 3)),
            )
        )
    return result


def random_case(rng: random.Random) -> tuple[ref.Contract, list[ref.Event]]:
    start = day(rng.randint(0, 40))
    end = maybe(rng, lambda: start + timedelta(days=rng.randint(10, 150)))
    contract = ref.Contract(start, end, [random_product(rng) for _ in range(rng.randint(1, 3))])
    if rng.random() < 0.5:
        contract.subscription_products.append(random_subscription_product(rng, start))
    if rng.random() < 0.5:
        contract.composites.append(random_composite(rng, len(contract.products) + len(contract.subscription_products)))
    for product in [*contract.products, *contract.subscription_products, *contract.composites]:
        product.tags = rng.sample(["a", "b"], rng.randint(0, 2))
    contract.balances = random_balances(rng, contract)
    events = []
    for i in range(rng.randint(0, 12)):
        metric = rng.choice(METRICS)
        properties = {"v": rng.choice(VALUES), "u": rng.choice(["a", "b", "c"])}
        group = rng.choice(GROUP_VALUES)
        if group is not None:
            properties["g"] = group
        at = day(rng.randint(-5, 165), rng.randint(0, 23))
        events.append(ref.Event(f"{i:02d}", metric.event_type, at, properties))
    # events an hour either side of rate and override boundaries, alike but for the time: the SQL rates
    # them from buckets that no boundary may cut (a month, a day, an event: DECISIONLOG D81)
    for product in contract.products:
        boundaries = {t for r in [*product.rates, *product.overrides] for t in (r.starting_at, r.ending_before) if t}
        for t in sorted(boundaries):
            if rng.random() < 0.5:
                properties = {"v": rng.choice(VALUES), "u": rng.choice(["a", "b", "c"])}
                group = rng.choice(GROUP_VALUES)
                if group is not None:
                    properties["g"] = group
                for offset in (-1, 1):
                    at = t + timedelta(hours=offset)
                    events.append(ref.Event(f"{len(events):02d}", product.metric.event_type, at, dict(properties)))
    return contract, events


def iso(d: datetime | None) -> str | None:
    return None if d is None else d.strftime("%Y-%m-%dT%H:%M:%SZ")


def in_currency(amount: Decimal | None, currency: str) -> Decimal | None:
    """A random balance amount (cents) made an amount of `currency`: whole yen (x 100), or with a
    third KWD place (+ 0.005), so that balances and purchases exercise each minor unit."""
    if amount is None or currency == "USD":
        return amount
    return amount * 100 if currency == "JPY" else amount + Decimal("0.005")


def write_cases(project: BillingTestProject, batch) -> dict:
    """Seeds and events for a batch of cases (ids prefixed by case); returns the reference results."""
    seeds = {
        name: []
        for name in (
            "customers",
            "products",
            "rate_cards",
            "rate_card_rates",
            "contracts",
            "contract_overrides",
            "contract_subscriptions",
            "contract_commits",
            "contract_credits",
        )
    }
    events, expected_lines, expected_invoices, expected_scheduled = [], {}, {}, {}
    expected_applied, expected_true_ups, expected_balances = {}, {}, {}
    for k, (contract, case_events) in enumerate(batch):
        cid, kid, rc = f"c{k:03d}", f"k{k:03d}", f"rc{k:03d}"
        contract.currency = CURRENCIES[k % len(CURRENCIES)]
        for b in contract.balances:
            b.amount, b.invoice_amount = (
                in_currency(b.amount, contract.currency),
                in_currency(b.invoice_amount, contract.currency),
            )
        seeds["customers"].append({"customer_id": cid, "name": cid})
        seeds["rate_cards"].append({"rate_card_id": rc, "name": rc, "currency": contract.currency})
        seeds["contracts"].append(
            {
                "contract_id": kid,
                "customer_id": cid,
                "rate_card_id": rc,
                "name": kid,
                "starting_at": iso(contract.starting_at),
                "ending_before": iso(contract.ending_before),
            }
        )
        for j, product in enumerate(contract.products):
            product.product_id = f"p{k:03d}_{j}"
            for o in product.overrides:
                o.override_id = f"o{k:03d}_{j}_{o.override_id[-2:]}"
            seeds["products"].append(
                {
                    "product_id": product.product_id,
                    "name": product.product_id,
                    "type": "USAGE",
                    "billable_metric": product.metric.name,
                    "quantity_conversion_operation": product.conversion and product.conversion[0],
                    "quantity_conversion_factor": product.conversion and str(product.conversion[1]),
                    "quantity_rounding_decimal_places": product.rounding and str(product.rounding[0]),
                    "quantity_rounding_method": product.rounding and product.rounding[1],
                    "pricing_group_key": [product.pricing_key] if product.pricing_key else None,
                    "tags": product.tags,
                }
            )
            for r in product.rates:
                seeds["rate_card_rates"].append(
                    {
                        "rate_card_id": rc,
                        "product_id": product.product_id,
                        "starting_at": iso(r.starting_at),
                        "ending_before": iso(r.ending_before),
                        "rate_type": r.rate_type,
                        "price": None if r.price is None else str(r.price),
                        "tiers": [{"price": str(p), **({"size": str(s)} if s is not None else {})} for s, p in r.tiers]
                        or None,
                        "package_size": None if r.package_size is None else str(r.package_size),
                        "pricing_group_values": {"g": r.group} if r.group is not None else None,
                    }
                )
            seeds["contract_overrides"] += [override_row(o, kid, product.product_id) for o in product.overrides]
        for j, sp in enumerate(contract.subscription_products):
            sp.product_id = f"s{k:03d}_{j}"
            seeds["products"].append(
                {"product_id": sp.product_id, "name": sp.product_id, "type": "SUBSCRIPTION", "tags": sp.tags}
            )
            frequency = {1: "MONTHLY", 3: "QUARTERLY", 12: "ANNUAL"}[sp.frequency_months]
            for r in sp.rates:
                seeds["rate_card_rates"].append(
                    {
                        "rate_card_id": rc,
                        "product_id": sp.product_id,
                        "starting_at": iso(r.starting_at),
                        "ending_before": iso(r.ending_before),
                        "rate_type": "SUBSCRIPTION",
                        "price": str(r.price),
                        "billing_frequency": frequency,
                    }
                )
            for o in sp.overrides:
                o.override_id = f"o{k:03d}_s{j}_{o.override_id[-2:]}"
            seeds["contract_overrides"] += [override_row(o, kid, sp.product_id) for o in sp.overrides]
            for i, sub in enumerate(sp.subscriptions):
                seeds["contract_subscriptions"].append(
                    {
                        "subscription_id": f"{sp.product_id}_{i}",
                        "contract_id": kid,
                        "product_id": sp.product_id,
                        "quantity": str(sub.quantity),
                        "starting_at": iso(sub.starting_at),
                        "ending_before": iso(sub.ending_before),
                        "collection_schedule": sub.schedule,
                        "is_prorated": sub.prorated,
                    }
                )
        component_ids = [p.product_id for p in contract.products] + [
            sp.product_id for sp in contract.subscription_products
        ]
        for j, composite in enumerate(contract.composites):
            composite.product_id = f"x{k:03d}_{j}"
            composite.components = [component_ids[int(i)] for i in composite.components]
            seeds["products"].append(
                {
                    "product_id": composite.product_id,
                    "name": composite.product_id,
                    "type": "COMPOSITE",
                    "composite_product_ids": composite.components,
                    "tags": composite.tags,
                }
            )
            for r in composite.rates:
                seeds["rate_card_rates"].append(
                    {
                        "rate_card_id": rc,
                        "product_id": composite.product_id,
                        "starting_at": iso(r.starting_at),
                        "ending_before": iso(r.ending_before),
                        "rate_type": "PERCENTAGE",
                        "price": str(r.price),
                    }
                )
            for o in composite.overrides:
                o.override_id = f"o{k:03d}_x{j}_{o.override_id[-2:]}"
            seeds["contract_overrides"] += [
                override_row(o, kid, composite.product_id, rate_type=None) for o in composite.overrides
            ]
        for e in case_events:
            e.transaction_id = f"t{k:03d}_{e.transaction_id[-2:]}"
            events.append(
                {
                    "transaction_id": e.transaction_id,
                    "customer_id": cid,
                    "event_type": e.event_type,
                    "timestamp": iso(e.at),
                    "properties": e.properties,
                }
            )
        by_ref = {
            **{f"p{j}": p.product_id for j, p in enumerate(contract.products)},
            **{f"s{j}": p.product_id for j, p in enumerate(contract.subscription_products)},
            **{f"x{j}": p.product_id for j, p in enumerate(contract.composites)},
        }
        for b in contract.balances:
            b.balance_id = f"b{k:03d}_{b.balance_id[-2:]}"
            if b.product_ids is not None:
                b.product_ids = [by_ref.get(r, r) for r in b.product_ids]
            row = {
                "contract_id": kid,
                "name": b.balance_id,
                "amount": str(b.amount),
                "access_starting_at": iso(b.starting_at),
                "access_ending_before": iso(b.ending_before),
                "applicable_product_ids": b.product_ids,
                "applicable_product_tags": b.product_tags,
                "priority": None if b.priority is None else str(b.priority),
            }
            if b.kind == "CREDIT":
                seeds["contract_credits"].append({"credit_id": b.balance_id, **row})
            else:
                seeds["contract_commits"].append(
                    {
                        "commit_id": b.balance_id,
                        "type": b.kind,
                        "invoice_at": iso(b.invoice_at),
                        "invoice_amount": None if b.invoice_amount is None else str(b.invoice_amount),
                        **row,
                    }
                )
        result = ref.rate_contract(contract, case_events, AS_OF)
        tags = {
            p.product_id: p.tags for p in [*contract.products, *contract.subscription_products, *contract.composites]
        }
        balances = refb.apply_balances(
            contract.balances, result["periods"], result["invoice_lines"], tags, contract.ending_before, AS_OF
        )
        for (product_id, seg_start), values in result["lines"].items():
            expected_lines[(kid, product_id, seg_start)] = sorted(values)
        for period_start, total in result["invoices"].items():
            expected_invoices[(kid, period_start)] = total
        for (period_start, balance_id), amount in balances["applied"].items():
            expected_applied[(kid, period_start, balance_id)] = amount
            expected_invoices[(kid, period_start)] -= amount
        for (period_start, balance_id), amount in balances["true_ups"].items():
            expected_true_ups[(kid, period_start, balance_id)] = amount
            expected_invoices[(kid, period_start)] += amount
        for issued_at, total in result["scheduled"].items():
            expected_scheduled[(kid, issued_at)] = total
        for issued_at, price in balances["purchases"].items():
            expected_scheduled[(kid, issued_at)] = expected_scheduled.get((kid, issued_at), Decimal(0)) + price
        expected_balances.update(balances["balances"])

    for name, rows in seeds.items():
        (project.dir / "seeds" / f"{name}.csv").write_text(seed_csv(name, rows))
    project.query("delete from raw.usage_events")
    # each batch is a new world (same contract ids, new catalogs): forget what earlier batches finalized
    project.query("drop table if exists main.invoice_store")
    project.ingest(events)
    return {
        "lines": expected_lines,
        "invoices": expected_invoices,
        "scheduled": expected_scheduled,
        "applied": expected_applied,
        "true_ups": expected_true_ups,
        "balances": expected_balances,
    }


BALANCE_LINE_TYPES = ("applied_credit", "applied_commit", "commit_true_up", "commit_purchase")


def diff(expected: dict, actual: dict) -> dict:
    return {
        k: (expected.get(k), actual.get(k)) for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k)
    }


def show(title: str, differences: dict) -> str:
    return f"{title} (reference, sql) differ:\n" + "\n".join(
        f"  {k}: {v}" for k, v in sorted(differences.items(), key=str)[:20]
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> BillingTestProject:
    p = BillingTestProject(tmp_path_factory.mktemp("reference"))
    p.metrics(METRICS_YAML)
    p.build(data_tests=False)  # creates raw.usage_events; parses the project once (no rows to test yet)
    return p


@settings(
    max_examples=MAX_BUILDS,
    deadline=None,
    database=None,
    derandomize=False,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a dbt build
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
# found by this test: two subscriptions of one product whose lines start together but end apart
# were netted into one line, so a credit whose window holds only the shorter one drew nothing
@example(seed=11725)
def test_sql_matches_reference(project, seed):
    rng = random.Random(seed)
    batch = [random_case(rng) for _ in range(CASES_PER_BUILD)]
    expected = write_cases(project, batch)
    project.build(as_of=iso(AS_OF))
    actual_lines: dict = {}
    for r in project.lines():
        if r["line_type"] in BALANCE_LINE_TYPES:
            continue
        actual_lines.setdefault((r["contract_id"], r["product_id"], r["starting_at"]), []).append(
            (r["quantity"], r["amount"])
        )
    actual_lines = {k: sorted(v) for k, v in actual_lines.items()}
    invoices = project.invoices()
    actual_invoices = {
        (r["contract_id"], r["period_starting_at"]): r["total"] for r in invoices if r["invoice_type"] == "USAGE"
    }
    actual_scheduled = {
        (r["contract_id"], r["issued_at"]): r["total"] for r in invoices if r["invoice_type"] == "SCHEDULED"
    }
    line_diff = {
        k: (expected["lines"].get(k), actual_lines.get(k))
        for k in expected["lines"].keys() | actual_lines.keys()
        if expected["lines"].get(k) != actual_lines.get(k)
    }
    invoice_diff = {
        k: (expected["invoices"].get(k), actual_invoices.get(k))
        for k in expected["invoices"].keys() | actual_invoices.keys()
        if expected["invoices"].get(k) != actual_invoices.get(k)
    }
    assert not line_diff, "lines (reference, sql) differ:\n" + "\n".join(
        f"  {k}: {v}" for k, v in sorted(line_diff.items(), key=str)[:20]
    )
    assert not invoice_diff, "invoice totals (reference, sql) differ:\n" + "\n".join(
        f"  {k}: {v}" for k, v in sorted(invoice_diff.items(), key=str)[:20]
    )
    assert not diff(expected["scheduled"], actual_scheduled), show(
        "SCHEDULED invoice totals", diff(expected["scheduled"], actual_scheduled)
    )
    balance_lines = project.query("""
        select l.contract_id, i.period_starting_at, l.line_type, coalesce(l.credit_id, l.commit_id) as balance_id,
            l.amount
        from main.fct_invoice_line_items l join main.fct_invoices i using (invoice_id)
        where l.line_type in ('applied_credit', 'applied_commit', 'commit_true_up')""")
    actual_applied = {
        (r["contract_id"], r["period_starting_at"], r["balance_id"]): -r["amount"]
        for r in balance_lines
        if r["line_type"] != "commit_true_up"
    }
    actual_true_ups = {
        (r["contract_id"], r["period_starting_at"], r["balance_id"]): r["amount"]
        for r in balance_lines
        if r["line_type"] == "commit_true_up"
    }
    assert not diff(expected["applied"], actual_applied), show(
        "applied credits and commits", diff(expected["applied"], actual_applied)
    )
    assert not diff(expected["true_ups"], actual_true_ups), show(
        "true-ups", diff(expected["true_ups"], actual_true_ups)
    )
    actual_balances = {
        r["balance_id"]: (r["consumed_amount"], r["expired_amount"], r["trued_up_amount"], r["remaining_amount"])
        for r in project.query("select * from main.fct_balances")
    }
    assert not diff(expected["balances"], actual_balances), show(
        "balances (consumed, expired, trued up, left)", diff(expected["balances"], actual_balances)
    )
    assert expected["invoices"], "the batch produced no invoice at all"
    kinds = {r["line_type"] for r in project.lines()}
    assert {"usage", "subscription", "composite", *BALANCE_LINE_TYPES} <= kinds, kinds
    sql_grouped = {p.product_id for contract, _ in batch for p in contract.products if p.metric.sql}
    assert any(r["product_id"] in sql_grouped and r["pricing_group_values"] for r in project.lines()), (
        "no SQL metric line priced by its group"
    )
