"""Pricing groups (a rate per group value, else the default rate) and presentation groups
(separate lines). Amounts computed by hand."""

from __future__ import annotations

from conftest import D

METRICS = """
billable_metrics:
  - {name: tokens, event_type: completion, aggregation: sum, property: tokens, group_keys: [model, region]}
"""


def rate(price=None, groups=None, **kw):
    return {
        "rate_card_id": "rc",
        "product_id": "p_tokens",
        "starting_at": "2025-01-01",
        "rate_type": "FLAT",
        "price": price,
        "pricing_group_values": groups,
        **kw,
    }


AS_OF = "2025-02-05T00:00:00Z"


def prepare(p) -> str:
    """Pricing and presentation groups: a catalog and usage; returns the as-of instant to build at.
    (tests/test_spark_parity.py builds it on Spark too.)"""
    p.seeds(
        customers=[{"customer_id": "c1", "name": "One"}],
        products=[
            {
                "product_id": "p_tokens",
                "name": "Tokens",
                "type": "USAGE",
                "billable_metric": "tokens",
                "pricing_group_key": ["model"],
                "presentation_group_key": ["region"],
            }
        ],
        rate_cards=[{"rate_card_id": "rc", "name": "List"}],
        rate_card_rates=[
            rate("0.001"),
            rate("0.01", {"model": "gpt-4"}),
            rate(
                None,
                {"model": "small"},
                rate_type="TIERED",
                tiers=[{"size": 1000, "price": "0.002"}, {"price": "0.001"}],
            ),
        ],
        contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"}],
        contract_overrides=[
            {
                "override_id": "o1",
                "contract_id": "k1",
                "starting_at": "2025-01-01",
                "product_id": "p_tokens",
                "pricing_group_values": {"model": "gpt-4"},
                "type": "MULTIPLIER",
                "multiplier": "0.5",
            }
        ],
    ).metrics(METRICS)

    def completion(tid, tokens, region, model=None):
        props = {"tokens": tokens, "region": region, **({"model": model} if model else {})}
        return {
            "transaction_id": tid,
            "customer_id": "c1",
            "event_type": "completion",
            "timestamp": "2025-01-10T00:00:00Z",
            "properties": props,
        }

    p.ingest(
        [
            completion("a", 100, "eu", "gpt-4"),
            completion("b", 200, "us", "gpt-4"),
            completion("c", 800, "eu", "small"),
            completion("d", 400, "eu", "small"),
            completion("e", 5000, "us", "mini"),
            completion("f", 1000, "eu"),
        ]
    )
    return AS_OF


def test_pricing_and_presentation_groups(make_project):
    p = make_project()
    p.build(as_of=prepare(p))
    lines = {
        (r["pricing_group_values"], r["presentation_group_values"]): (r["quantity"], r["unit_price"], r["amount"])
        for r in p.lines()
    }
    assert lines == {
        # gpt-4 has its own rate, halved by the gpt-4 multiplier: 0.01 x 0.5 = 0.005
        ('{"model":"gpt-4"}', '{"region":"eu"}'): (D(100), D("0.005"), D("0.50")),
        ('{"model":"gpt-4"}', '{"region":"us"}'): (D(200), D("0.005"), D("1.00")),
        # small is TIERED: 1,200 -> 1000 x 0.002 + 200 x 0.001 = 2.20
        ('{"model":"small"}', '{"region":"eu"}'): (D(1200), None, D("2.20")),
        # mini and a missing model have no rate of their own: the default rate 0.001, no multiplier
        (None, '{"region":"us"}'): (D(5000), D("0.001"), D("5.00")),
        (None, '{"region":"eu"}'): (D(1000), D("0.001"), D("1.00")),
    }
    # January: 0.50 + 1.00 + 2.20 + 5.00 + 1.00 = 9.70; February has started: a $0 invoice
    assert [r["total"] for r in p.invoices()] == [D("9.70"), D("0.00")]


def test_group_configuration_is_checked(make_project):
    p = (
        make_project()
        .seeds(
            customers=[{"customer_id": "c1", "name": "One"}],
            products=[
                {
                    "product_id": "p_tokens",
                    "name": "Tokens",
                    "type": "USAGE",
                    "billable_metric": "tokens",
                    "pricing_group_key": ["model", "tier"],
                }
            ],
            rate_cards=[{"rate_card_id": "rc", "name": "List"}],
            rate_card_rates=[rate("0.001"), rate("0.01", {"model": "gpt-4"}, starting_at="2025-02-01")],
            contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"}],
        )
        .metrics(METRICS)
    )
    text = "\n".join(p.build(as_of="2025-02-05T00:00:00Z", expect_success=False).problems)
    assert (
        "seed=products.csv, row_key=p_tokens, problem=pricing key tier is not a group key of billable metric tokens"
        in text
    )
    assert (
        "seed=rate_card_rates.csv, row_key=rc/p_tokens/2025-02-01 00:00:00.000000, "
        "problem=pricing_group_values has no value for pricing key tier of product p_tokens"
    ) in text


def test_rates_of_the_same_canonical_group_overlap(make_project):
    """{"model":"gpt-4"} and {"model":"gpt-4","region":"eu"} are the same group for a product priced by
    model only (extra keys are ignored): two rates for it at once are a catalog error, not a crash."""
    p = (
        make_project()
        .seeds(
            customers=[{"customer_id": "c1", "name": "One"}],
            products=[
                {
                    "product_id": "p_tokens",
                    "name": "Tokens",
                    "type": "USAGE",
                    "billable_metric": "tokens",
                    "pricing_group_key": ["model"],
                }
            ],
            rate_cards=[{"rate_card_id": "rc", "name": "List"}],
            rate_card_rates=[
                rate("0.001"),
                rate("0.01", {"model": "gpt-4"}),
                rate("0.02", {"model": "gpt-4", "region": "eu"}),
            ],
            contracts=[{"contract_id": "k1", "customer_id": "c1", "rate_card_id": "rc", "starting_at": "2025-01-01"}],
        )
        .metrics(METRICS)
    )
    result = p.build(as_of="2025-02-05T00:00:00Z", expect_success=False)
    text = "\n".join(result.problems)
    assert (
        "problem=overlaps the rate starting 2025-01-01 00:00:00.000000 for the same product and pricing group" in text
    )
    assert len(result.problems) == 1, text  # the catalog check, and nothing downstream
