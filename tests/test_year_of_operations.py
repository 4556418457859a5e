"""A year of operations on one long-lived database (issue 15): the story a warehouse lives through.

Two customers on monthly contracts from Jan 1 2025, billed for two usage products:
- `api`: a count of `call` events, TIERED per period: the first 10 calls at $1.00, the rest at
  $0.50; from Jul 1 (a price edit made in June) 10 at $1.20, the rest at $0.60;
- `gb`: a sum of the `bytes` property, DIVIDE by 1e9 (GB), FLAT $0.02 per GB; from Aug 1 customer B
  gets a MULTIPLIER 0.5 override on it (added in July).
Customer A has a $20 credit for the year and pays through Stripe.

Events arrive as a streaming loader writes them: the contract's six columns, one `loaded_at` per
event. January to March arrive as one backfill in April and are billed by a build with a past as-of
(Apr 2, before the rows were loaded). Each later month: the month's events arrive during the month,
a build on the 2nd of the next month finalizes it (in April, July and October a build on the 15th
rates the month's first half as a draft first), and some of the month's events arrive on the 3rd,
late: they are billed on the next month's invoice. Some builds are killed (SIGKILL): as the store
starts (May), right after it committed (June) and at a later model (September). The nightly load lands
before the next build; a month the killed build stored gets it as late usage on the next month's
draft, a month it did not store is stored by the next build with it, and nothing is adjusted. In
October, September's gb price for A turns out to be wrong ($0.015): an override is added, A's
September invoice is voided and regenerated, and Stripe exports are taken before and after.

After every build:
- what each (contract, product, service period) has been billed in total (its usage line plus every
  late_usage_adjustment line for it, whichever invoice carries them) equals the pure-Python reference
  (tests/reference_rating.py) rating of every event loaded so far with the catalog of that moment;
- every row ever stored in invoice_store is still there, byte for byte (only appends), also after a
  killed build, and every final invoice is whole (total = its stored lines, credits = its drawdowns);
- the dbt data tests passed (invoice totals are the sums of their lines, one outcome per raw row),
  in every build but the mid-month ones (drafts only, to save their time): the month's closing build,
  a few days later, runs them over the same events and the rest of the month.
A mid-month build is the same step every month (a draft over part of a month, then more events for
that month before the closing build), so it runs in three months, not nine: the first live month
after the backfill, the first at the prices edited in June (with July's override edit), and October
(after its closing build September is voided and regenerated). The events are the same either way (builds draw no
random numbers).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from decimal import Decimal

import reference_rating as ref
from click.testing import CliRunner
from conftest import D
from killed_build import build_killed

from billing_cli.cli import main

METRICS = """billable_metrics:
  - {name: calls, event_type: call, aggregation: count}
  - {name: bytes, event_type: storage, aggregation: sum, property: bytes}
"""
TIERS_H1 = [{"size": "10", "price": "1.00"}, {"price": "0.50"}]
TIERS_H2 = [{"size": "10", "price": "1.20"}, {"price": "0.60"}]
CUSTOMERS = {"A": "kA", "B": "kB"}
MID_MONTH_BUILDS = {4, 7, 10}  # the months with a build on the 15th (see above)


def catalog(price_edit=False, multiplier=False, september_fix=False) -> dict:
    api = [
        {
            "rate_card_id": "rc",
            "product_id": "api",
            "starting_at": "2025-01-01",
            "rate_type": "TIERED",
            "tiers": TIERS_H1,
            "ending_before": "2025-07-01" if price_edit else None,
        }
    ]
    if price_edit:
        api.append(
            {
                "rate_card_id": "rc",
                "product_id": "api",
                "starting_at": "2025-07-01",
                "rate_type": "TIERED",
                "tiers": TIERS_H2,
            }
        )
    overrides = []
    if multiplier:
        overrides.append(
            {
                "override_id": "o-half",
                "contract_id": "kB",
                "starting_at": "2025-08-01",
                "product_id": "gb",
                "type": "MULTIPLIER",
                "multiplier": "0.5",
            }
        )
    if september_fix:
        overrides.append(
            {
                "override_id": "o-sep",
                "contract_id": "kA",
                "starting_at": "2025-09-01",
                "ending_before": "2025-10-01",
                "product_id": "gb",
                "type": "OVERWRITE",
                "rate_type": "FLAT",
                "price": "0.015",
            }
        )
    return {
        "customers": [
            {
                "customer_id": "A",
                "name": "Alpha",
                "billing_provider": "stripe",
                "billing_provider_customer_id": "cus_A",
            },
            {"customer_id": "B", "name": "Beta"},
        ],
        "products": [
            {"product_id": "api", "name": "API calls", "type": "USAGE", "billable_metric": "calls"},
            {
                "product_id": "gb",
                "name": "Storage",
                "type": "USAGE",
                "billable_metric": "bytes",
                "quantity_conversion_factor": "1000000000",
                "quantity_conversion_operation": "DIVIDE",
            },
        ],
        "rate_cards": [{"rate_card_id": "rc", "name": "List"}],
        "rate_card_rates": api
        + [
            {
                "rate_card_id": "rc",
                "product_id": "gb",
                "starting_at": "2025-01-01",
                "rate_type": "FLAT",
                "price": "0.02",
            }
        ],
        "contracts": [
            {"contract_id": k, "customer_id": c, "rate_card_id": "rc", "name": c, "starting_at": "2025-01-01"}
            for c, k in CUSTOMERS.items()
        ],
        "contract_overrides": overrides,
        "contract_credits": [
            {
                "credit_id": "cr-A",
                "contract_id": "kA",
                "name": "Welcome",
                "amount": "20",
                "access_starting_at": "2025-01-01",
                "access_ending_before": "2026-01-01",
            }
        ],
    }


def reference_contract(customer: str, cat: dict) -> ref.Contract:
    """The same catalog, for one contract, in the reference's terms."""

    def when(text):
        return None if not text else datetime.fromisoformat(text)

    def rate(row):
        tiers = [(Decimal(t["size"]) if "size" in t else None, Decimal(t["price"])) for t in row.get("tiers") or []]
        return ref.Rate(
            when(row["starting_at"]),
            when(row.get("ending_before")),
            row["rate_type"],
            price=Decimal(row["price"]) if row.get("price") else None,
            tiers=tiers,
        )

    def overrides(product_id):
        out = []
        for o in cat["contract_overrides"]:
            if o["contract_id"] == CUSTOMERS[customer] and o["product_id"] == product_id:
                out.append(
                    ref.Override(
                        o["override_id"],
                        when(o["starting_at"]),
                        when(o.get("ending_before")),
                        o["type"],
                        multiplier=Decimal(o["multiplier"]) if o.get("multiplier") else None,
                        price=Decimal(o["price"]) if o.get("price") else None,
                    )
                )
        return out

    rates = {p: [rate(r) for r in cat["rate_card_rates"] if r["product_id"] == p] for p in ("api", "gb")}
    return ref.Contract(
        datetime(2025, 1, 1),
        None,
        [
            ref.Product("api", ref.Metric("calls", "call", "count", None), rates["api"], overrides("api")),
            ref.Product(
                "gb",
                ref.Metric("bytes", "storage", "sum", "bytes"),
                rates["gb"],
                overrides("gb"),
                conversion=("DIVIDE", Decimal(1000000000)),
            ),
        ],
    )


class Story:
    def __init__(self, project, seed=2025):
        self.p = project
        self.rng = random.Random(seed)
        self.cat = catalog()
        self.loaded: list[dict] = []  # every raw row, in load order
        self.serial = 0
        self.stored: set[tuple] = set()
        self.as_of: str | None = None

    # -- the loader ------------------------------------------------------------------------------
    def month_events(self, year: int, month: int, first_day: int = 1, last_day: int = 28) -> list[dict]:
        events = []
        for customer in CUSTOMERS:
            for _ in range(self.rng.randint(4, 16)):
                self.serial += 1
                at = datetime(
                    year, month, self.rng.randint(first_day, last_day), self.rng.randint(0, 23), self.rng.randint(0, 59)
                )
                if self.rng.random() < 0.7:
                    events.append(
                        {
                            "transaction_id": f"t{self.serial}",
                            "customer_id": customer,
                            "event_type": "call",
                            "at": at,
                            "properties": {},
                        }
                    )
                else:
                    events.append(
                        {
                            "transaction_id": f"t{self.serial}",
                            "customer_id": customer,
                            "event_type": "storage",
                            "at": at,
                            "properties": {"bytes": self.rng.choice([5 * 10**8, 2 * 10**9, 123456789])},
                        }
                    )
        return events

    def land(self, events: list[dict], loaded_from: datetime, retry_share: float = 0.0):
        """Stream events into raw.usage_events as a streaming loader does: one loaded_at per event
        (a few minutes after the event, never before `loaded_from`), the contract's six columns only;
        a share of them are sent again an hour later with another payload (duplicates)."""
        rows = []
        for e in events:
            rows.append({**e, "loaded_at": max(e["at"], loaded_from) + timedelta(seconds=self.rng.randint(1, 900))})
        for e in [e for e in events if self.rng.random() < retry_share]:
            rows.append(
                {
                    **e,
                    "properties": {**e["properties"], "retried": True},
                    "loaded_at": max(e["at"], loaded_from) + timedelta(seconds=3600),
                }
            )
        self.p.query("create schema if not exists raw")
        for r in rows:
            self.p.query(
                "insert into raw.usage_events (transaction_id, customer_id, event_type, timestamp, properties, "
                "loaded_at) values (?, ?, ?, ?, ?, ?)",
                [
                    r["transaction_id"],
                    r["customer_id"],
                    r["event_type"],
                    r["at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    json.dumps(r["properties"]),
                    r["loaded_at"],
                ],
            )
        self.loaded.extend(rows)

    # -- builds ------------------------------------------------------------------------------------
    def build(
        self, as_of: str, killed_at: tuple[str, str] | None = None, data_tests: bool = True, column_rules: bool = False
    ):
        if killed_at is not None:
            self.p.release()
            build_killed(self.p.dir, self.p.db_path, killed_at[0], killed_at[1], as_of=as_of)
            self.check_store()
            return
        self.p.build(as_of=as_of, data_tests=data_tests, column_rules=column_rules)
        self.as_of = as_of
        self.check()

    def usage_invoices(self, period: datetime) -> dict[str, str]:
        """contract -> invoice_id of its stored (final) USAGE invoice for the period starting then."""
        return {
            r["contract_id"]: r["invoice_id"]
            for r in self.p.query(
                "select contract_id, invoice_id from main.finalized_invoices "
                "where invoice_type = 'USAGE' and period_starting_at = ?",
                [period],
            )
        }

    def late_lines_for(self, invoice_ids) -> set[str]:
        """Those of invoice_ids that a late_usage_adjustment line (on any invoice) adjusts."""
        wanted = set(invoice_ids)
        return {
            r["adjusted_invoice_id"]
            for r in self.p.query(
                "select adjusted_invoice_id from main.fct_invoice_line_items where line_type = 'late_usage_adjustment'"
            )
            if r["adjusted_invoice_id"] in wanted
        }

    def check_store(self):
        # the store only grows (also across a killed build), and each final invoice is whole: its total
        # is the sum of its stored lines, it has line_count of them, its credits_applied is what its
        # stored drawdowns took
        rows = {tuple(map(str, r.values())) for r in self.p.query("select * from main.invoice_store")}
        assert self.stored <= rows, f"as of {self.as_of}: stored rows changed or vanished: {self.stored - rows}"
        self.stored = rows
        for r in self.p.query("""
            select i.invoice_id, i.total, i.line_count, i.credits_applied,
                (select coalesce(sum(amount), 0) from main.finalized_invoice_line_items l
                 where l.invoice_id = i.invoice_id) as lines_total,
                (select count(*) from main.finalized_invoice_line_items l where l.invoice_id = i.invoice_id) as lines,
                (select coalesce(sum(drawn_amount), 0) from main.finalized_balance_drawdowns d
                 where d.invoice_id = i.invoice_id) as drawn
            from main.finalized_invoices i"""):
            assert (r["total"], r["line_count"], r["credits_applied"]) == (r["lines_total"], r["lines"], r["drawn"]), r

    def check(self):
        # (1) the store only grows, its invoices whole
        self.check_store()
        # (2) billed per (contract, product, service start) = the reference over every winning event
        as_of = datetime.fromisoformat(self.as_of.replace("Z", ""))
        winners: dict[str, dict] = {}
        for r in self.loaded:  # the earliest loaded copy of an id wins
            if r["transaction_id"] not in winners or r["loaded_at"] < winners[r["transaction_id"]]["loaded_at"]:
                winners[r["transaction_id"]] = r
        billed = {}
        for line in self.p.query(
            "select contract_id, product_id, starting_at, amount from main.fct_invoice_line_items "
            "where line_type in ('usage', 'late_usage_adjustment')"
        ):
            key = (line["contract_id"], line["product_id"], line["starting_at"])
            billed[key] = billed.get(key, Decimal(0)) + line["amount"]
        expected = {}
        for customer, contract_id in CUSTOMERS.items():
            events = [
                ref.Event(e["transaction_id"], e["event_type"], e["at"], e["properties"])
                for e in winners.values()
                if e["customer_id"] == customer
            ]
            rated = ref.rate_contract(reference_contract(customer, self.cat), events, as_of)
            for (product_id, start), amounts in rated["lines"].items():
                expected[(contract_id, product_id, start)] = sum((a for _, a in amounts), Decimal(0))
        billed = {k: v for k, v in billed.items() if v != 0 or k in expected}
        assert billed == {k: v for k, v in expected.items() if v != 0 or k in billed}, f"as of {self.as_of}"

    def edit_catalog(self, **changes):
        self.cat = catalog(**changes)
        self.p.seeds(**self.cat)


def test_a_year_of_operations_keeps_every_cent(make_project, tmp_path):
    p = make_project().seeds(**catalog()).metrics(METRICS)
    story = Story(p)
    story.p.build(as_of="2025-01-01T00:00:00Z", data_tests=False)  # an empty start: the landing table, the store

    # January to March arrive as one backfill on Apr 10; a build with a past as-of (Apr 2) bills them
    story.land(
        story.month_events(2025, 1) + story.month_events(2025, 2) + story.month_events(2025, 3),
        datetime(2025, 4, 10),
        retry_share=0.05,
    )
    story.build("2025-04-02T00:00:00Z")
    final = {
        r["period_starting_at"]
        for r in p.query("select period_starting_at from main.finalized_invoices where invoice_type = 'USAGE'")
    }
    assert final == {datetime(2025, m, 1) for m in (1, 2, 3)}

    kills = {5: ("start", "store"), 6: ("finish", "store"), 9: ("start", "fct_invoices")}
    for month in range(4, 13):
        year_next, month_next = (2025, month + 1) if month < 12 else (2026, 1)
        if month == 6:
            story.edit_catalog(price_edit=True)  # July's new api prices, decided in June
        if month == 7:
            story.edit_catalog(price_edit=True, multiplier=True)  # B's storage discount from Aug 1
        story.land(story.month_events(2025, month, 1, 13), datetime(2025, month, 1), retry_share=0.03)
        if month in MID_MONTH_BUILDS:
            story.build(f"2025-{month:02d}-15T00:00:00Z", data_tests=False)  # a mid-month build: drafts only
        story.land(story.month_events(2025, month, 15, 28), datetime(2025, month, 15), retry_share=0.03)
        closing = f"{year_next}-{month_next:02d}-02T01:00:00Z"
        if month in kills:
            period = datetime(2025, month, 1)
            story.build(closing, killed_at=kills[month])
            # killed as the store started, nothing of the month was stored; after the store (or at a
            # later model), both contracts' invoices were, and stay as they were stored
            stored = story.usage_invoices(period)
            assert set(stored) == (set() if kills[month] == ("start", "store") else set(CUSTOMERS.values()))
            # the nightly load lands before the next build: more of the month, loaded after the kill
            story.land(story.month_events(2025, month, 27, 28), datetime(year_next, month_next, 2, 2))
            story.build(f"{year_next}-{month_next:02d}-02T03:00:00Z")
            # what the storing build saw decides lateness: a month stored by the killed build gets the
            # nightly load as late usage on the next month's draft (it adds calls or bytes for each
            # contract); one stored only now billed it in full and has no adjustment
            final = story.usage_invoices(period)
            assert set(final) == set(CUSTOMERS.values()) and stored.items() <= final.items()
            assert story.late_lines_for(final.values()) == set(stored.values())
        else:
            story.build(closing, column_rules=month == 12)  # the year's store: keys unique, codes known
        # late events for the month that was just finalized
        story.land(story.month_events(2025, month, 25, 28)[:5], datetime(year_next, month_next, 3))

        if month == 9:
            # stripe export of September before the fix
            before = tmp_path / "stripe-before"
            runner = CliRunner()
            args = ["--project-dir", str(p.dir), "--db", str(p.db_path)]
            assert (
                runner.invoke(main, [*args, "export", "stripe", "--period", "2025-09", "--out", str(before)]).exit_code
                == 0
            )
        if month == 10:
            # A's September storage was mispriced: fix the catalog, void and regenerate September
            story.edit_catalog(price_edit=True, multiplier=True, september_fix=True)
            [sep] = p.query(
                "select invoice_id, total from main.fct_invoices where contract_id = 'kA' "
                "and invoice_type = 'USAGE' and period_starting_at = '2025-09-01'"
            )
            result = runner.invoke(
                main,
                [*args, "invoices", "void", sep["invoice_id"], "--reason", "storage mispriced", "--as-of", story.as_of],
            )
            assert result.exit_code == 0, result.output
            story.check()
            [regenerated] = p.query(
                "select invoice_version, total from main.fct_invoices where invoice_id = ?", [sep["invoice_id"]]
            )
            assert regenerated["invoice_version"] == 2 and regenerated["total"] < sep["total"]
            after = tmp_path / "stripe-after"
            assert (
                runner.invoke(main, [*args, "export", "stripe", "--period", "2025-09", "--out", str(after)]).exit_code
                == 0
            )
            keys = {}
            for folder in (before, after):
                keys[folder] = {
                    r.get("idempotency_key")
                    for f in folder.glob("*.json")
                    for r in json.loads(f.read_text()).get("requests", [])
                }
            assert keys[before] and keys[after] and not (keys[before] & keys[after])

    # the year: twelve final USAGE invoices per contract, December's late events on January's draft
    rows = p.query(
        "select contract_id, status, count(*) as n from main.fct_invoices where invoice_type = 'USAGE' "
        "group by contract_id, status order by contract_id, status"
    )
    assert [(r["contract_id"], r["status"], r["n"]) for r in rows] == [
        ("kA", "DRAFT", 1),
        ("kA", "FINALIZED", 12),
        ("kB", "DRAFT", 1),
        ("kB", "FINALIZED", 12),
    ]
    late = p.query("select count(*) as n from main.fct_invoice_line_items where line_type = 'late_usage_adjustment'")
    assert late[0]["n"] >= 16
    assert D(p.query("select sum(drawn_amount) as s from main.finalized_balance_drawdowns")[0]["s"]) == D("20.00")
