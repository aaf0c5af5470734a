"""The matching rules on plain data: no database, a seeded random source."""

import datetime as dt
import random

import pytest

from campaigns.matching import engine, patterns
from campaigns.matching.engine import CampaignCard, Settlement

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
PAYER = "0x" + "11" * 20


def card(**overrides) -> CampaignCard:
    values = {
        "id": "c1",
        "advertiser_wallet": "0x" + "ad" * 20,
        "bid_strategy": "cpa",
        "max_bid_amount": 1000,
        "rec_resource_key": patterns.resource_key("https://sponsor.example.com/tool"),
        "networks": frozenset(),
        "transports": frozenset(),
        "patterns": (),
        "categories": (),
        "schedule_start": NOW - dt.timedelta(days=1),
        "schedule_end": None,
        "frequency_cap": 10,
    }
    values.update(overrides)
    return CampaignCard(**values)


def settlement(url="https://api.example.com/v1/quote", **overrides) -> Settlement:
    values = {
        "resource_url": url,
        "resource_key": patterns.resource_key(url),
        "description": "Swap quotes",
        "network": "eip155:8453",
        "payer": PAYER,
        "transport": "http",
    }
    values.update(overrides)
    return Settlement(**values)


def test_everything_open_campaign_is_eligible():
    assert engine.exclusion(card(), settlement(), NOW) is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"schedule_start": NOW + dt.timedelta(seconds=1)}, engine.EXCLUDED_SCHEDULE),
        ({"schedule_end": NOW}, engine.EXCLUDED_SCHEDULE),
        ({"networks": frozenset({"eip155:137"})}, engine.EXCLUDED_NETWORK),
        ({"transports": frozenset({"mcp"})}, engine.EXCLUDED_TRANSPORT),
        ({"patterns": (patterns.compile_glob("*jupiter*"),)}, engine.EXCLUDED_URL_PATTERN),
        ({"categories": ("weather",)}, engine.EXCLUDED_CATEGORY),
        (
            {"rec_resource_key": patterns.resource_key("https://API.example.com/v1/quote/")},
            engine.EXCLUDED_SAME_RESOURCE,
        ),
        ({"advertiser_wallet": PAYER}, engine.EXCLUDED_SELF_DEALING),
    ],
)
def test_each_rule_excludes_with_its_reason(overrides, reason):
    assert engine.exclusion(card(**overrides), settlement(), NOW) == reason


def test_schedule_end_is_exclusive_and_start_inclusive():
    assert engine.exclusion(card(schedule_start=NOW), settlement(), NOW) is None
    assert (
        engine.exclusion(card(schedule_end=NOW + dt.timedelta(microseconds=1)), settlement(), NOW)
        is None
    )


def test_patterns_contains_and_prefix():
    contains = patterns.compile_glob("*jupiter*")
    prefix = patterns.compile_glob("https://api.example.com/*")
    assert contains.match("https://quote.jupiter.ag/v6/swap")
    assert not contains.match("https://api.example.com/v1/quote")
    assert prefix.match("https://api.example.com/v1/quote")
    assert prefix.match("HTTPS://API.EXAMPLE.COM/v1/quote")
    assert not prefix.match("https://api.example.com.evil.net/x")
    # Regex metacharacters in a pattern are literal.
    assert not patterns.compile_glob("https://a.b/x?y").match("https://a.b/xy")
    assert patterns.compile_glob("https://a.b/x?y").match("https://a.b/x?y")


@pytest.mark.parametrize("bad", ["", "   ", "*", "**", "has space*", "x" * 513, 7])
def test_invalid_patterns_are_rejected(bad):
    with pytest.raises(patterns.PatternError):
        patterns.validate(bad)


def test_categories_match_url_or_description_case_insensitively():
    s = settlement(description="Hourly WEATHER data")
    assert engine.exclusion(card(categories=("weather",)), s, NOW) is None
    assert engine.exclusion(card(categories=("quote",)), s, NOW) is None


def test_rank_orders_by_expected_value_per_placement():
    cheap = card(id="cheap", max_bid_amount=100)  # cpa: 100,000 millis x 2% = 2,000
    dear = card(id="dear", max_bid_amount=900)  # cpa: 900,000 x 2% = 18,000
    cpm = card(id="cpm", bid_strategy="cpm", max_bid_amount=50_000)  # 50,000 x 50% = 25,000
    ranked = engine.rank([cheap, cpm, dear], settlement(), NOW, random.Random(1))
    assert [o.card.id for o in ranked] == ["cpm", "dear", "cheap"]
    assert ranked[1].score == pytest.approx(18_000)


def test_history_moves_a_campaign_away_from_its_prior():
    proven = card(
        id="proven", max_bid_amount=500, stats=engine.History(placements=1000, conversions=100)
    )  # 10%: 50,000
    unproven = card(id="unproven", max_bid_amount=2000)  # prior 2%: 40,000
    flop = card(
        id="flop", max_bid_amount=5000, stats=engine.History(placements=5000, conversions=0)
    )  # ~0.02%: ~980
    ranked = engine.rank([flop, unproven, proven], settlement(), NOW, random.Random(1))
    assert [o.card.id for o in ranked] == ["proven", "unproven", "flop"]


def test_a_new_campaign_is_not_starved_by_one_bad_placement():
    assert engine.expected_rate(engine.History(placements=1), "conversion") == pytest.approx(1 / 51)


def test_hybrid_value_counts_the_impression_and_the_conversion():
    hybrid = card(bid_strategy="hybrid", max_bid_amount=1000)
    http = engine.offer_for(hybrid, "http").score
    mcp = engine.offer_for(hybrid, "mcp").score
    assert http == pytest.approx(1000 * 0.5 + 999_000 * 0.02)
    assert mcp == pytest.approx(1_000_000 * 0.02)


def test_rank_drops_excluded_campaigns():
    ranked = engine.rank(
        [card(id="a", networks=frozenset({"eip155:137"})), card(id="b")],
        settlement(),
        NOW,
        random.Random(1),
    )
    assert [o.card.id for o in ranked] == ["b"]


def test_ties_are_broken_at_random_and_reproducibly():
    cards = [card(id=f"c{i}") for i in range(5)]
    firsts = {
        engine.rank(cards, settlement(), NOW, random.Random(seed))[0].card.id for seed in range(200)
    }
    assert firsts == {f"c{i}" for i in range(5)}
    same_seed = [
        engine.rank(cards, settlement(), NOW, random.Random(7))[0].card.id for _ in range(3)
    ]
    assert len(set(same_seed)) == 1


@pytest.mark.parametrize(
    ("strategy", "transport", "event", "price"),
    [
        ("cpm", "http", "impression", 1000),
        ("cpm", "mcp", "impression", 1000),
        ("cpc", "http", "click", 1_000_000),
        ("cpa", "http", "conversion", 1_000_000),
        ("hybrid", "http", "impression", 1_000_000),
        ("hybrid", "mcp", "conversion", 1_000_000),
        ("hybrid", "a2a", "conversion", 1_000_000),
    ],
)
def test_billing_per_strategy_in_millis(strategy, transport, event, price):
    offer = engine.offer_for(card(bid_strategy=strategy, max_bid_amount=1000), transport)
    assert (offer.billing_event, offer.price_millis) == (event, price)


def test_hold_is_the_most_a_placement_can_bill():
    assert engine.hold_millis("cpm", 1000) == 1000  # 1000/1000 = one atomic unit
    assert engine.hold_millis("cpa", 1000) == 1_000_000
    assert engine.hold_millis("hybrid", 1000) == 1_000_000


def test_resource_key_ignores_query_fragment_trailing_slash_and_host_case():
    a = patterns.resource_key("https://API.example.com/v1/quote/?x=1#f")
    assert a == patterns.resource_key("https://api.example.com/v1/quote")
    assert a != patterns.resource_key("https://api.example.com/v1/quote2")
