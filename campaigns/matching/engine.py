"""Which campaigns may answer a settlement, and in which order to try them.

Everything here works on plain frozen data and an injected random source, so the rules
are tested without a database. What needs atomicity (frequency caps and budget holds) is
not decided here: the placement service takes those in the database, in this order.
"""

import datetime as dt
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adnet.core.money import MILLIS_PER_ATOMIC

STRATEGY_CPM = "cpm"
STRATEGY_CPC = "cpc"
STRATEGY_CPA = "cpa"
STRATEGY_HYBRID = "hybrid"

EVENT_IMPRESSION = "impression"
EVENT_CLICK = "click"
EVENT_CONVERSION = "conversion"

# Why a campaign was passed over; stable strings, used in tests and (later) in explain mode.
EXCLUDED_SCHEDULE = "outside_schedule"
EXCLUDED_NETWORK = "network_not_targeted"
EXCLUDED_TRANSPORT = "transport_not_targeted"
EXCLUDED_URL_PATTERN = "url_pattern_not_matched"
EXCLUDED_CATEGORY = "category_not_matched"
EXCLUDED_SAME_RESOURCE = "recommends_paid_resource"
EXCLUDED_SELF_DEALING = "payer_is_advertiser"


@dataclass(frozen=True, slots=True)
class CampaignCard:
    """What matching needs to know about one live campaign."""

    id: str
    advertiser_wallet: str
    bid_strategy: str
    max_bid_amount: int
    rec_resource_key: str
    networks: frozenset[str]
    transports: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    categories: tuple[str, ...]
    schedule_start: dt.datetime
    schedule_end: dt.datetime | None
    frequency_cap: int
    # Its own recent history: placements, and how many of them were impressions, clicks
    # and conversions. Zero for a new campaign: the prior then speaks for it.
    stats: "History" = None  # type: ignore[assignment]

    def __post_init__(self):
        if self.stats is None:
            object.__setattr__(self, "stats", NO_HISTORY)


@dataclass(frozen=True, slots=True)
class History:
    placements: int = 0
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0


NO_HISTORY = History()

# What a new campaign is assumed to achieve, worth PRIOR_PLACEMENTS placements of evidence:
# enough that one lucky or unlucky placement does not decide its fate, few enough that its
# own history takes over within a day of traffic.
PRIOR_RATES = {"impression": 0.5, "click": 0.05, "conversion": 0.02}
PRIOR_PLACEMENTS = 50


def expected_rate(history: History, event: str) -> float:
    """Smoothed rate of an event per placement: (seen + prior) / (placements + weight)."""
    seen = {
        "impression": history.impressions,
        "click": history.clicks,
        "conversion": history.conversions,
    }[event]
    return (seen + PRIOR_RATES[event] * PRIOR_PLACEMENTS) / (history.placements + PRIOR_PLACEMENTS)


@dataclass(frozen=True, slots=True)
class Settlement:
    """The settlement a facilitator asks about, already validated and normalised."""

    resource_url: str
    resource_key: str
    description: str
    network: str
    payer: str
    transport: str


@dataclass(frozen=True, slots=True)
class Offer:
    """A campaign that may answer, with what its placement would bill and is worth."""

    card: CampaignCard
    billing_event: str
    price_millis: int
    score: float = 0.0


def billing_for(strategy: str, transport: str) -> tuple[str, int]:
    """The billable event of a placement and its charge per max_bid unit, in millis.

    Returned as (event, multiplier): the charge is max_bid_amount * multiplier millis,
    so a CPM impression (price/1000 of an atomic unit) costs exactly max_bid millis.
    """
    if strategy == STRATEGY_CPM:
        return EVENT_IMPRESSION, 1
    if strategy == STRATEGY_CPC:
        return EVENT_CLICK, MILLIS_PER_ATOMIC
    if strategy == STRATEGY_HYBRID and transport == "http":
        # Billed as CPM, but a later conversion replaces the impression charge with the
        # full price (domain: the higher charge replaces the lower), so that is the hold.
        return EVENT_IMPRESSION, MILLIS_PER_ATOMIC
    return EVENT_CONVERSION, MILLIS_PER_ATOMIC


def expected_value(card: CampaignCard, transport: str) -> float:
    """Millis a placement is expected to bill: each charge times the rate of its event."""
    bid, history = card.max_bid_amount, card.stats
    if card.bid_strategy == STRATEGY_CPM:
        return bid * expected_rate(history, EVENT_IMPRESSION)
    if card.bid_strategy == STRATEGY_CPC:
        return bid * MILLIS_PER_ATOMIC * expected_rate(history, EVENT_CLICK)
    if card.bid_strategy == STRATEGY_HYBRID and transport == "http":
        # The impression bills the cpm part; a conversion raises the bill to the full price.
        return bid * expected_rate(history, EVENT_IMPRESSION) + (
            bid * MILLIS_PER_ATOMIC - bid
        ) * expected_rate(history, EVENT_CONVERSION)
    return bid * MILLIS_PER_ATOMIC * expected_rate(history, EVENT_CONVERSION)


def offer_for(card: CampaignCard, transport: str) -> Offer:
    event, multiplier = billing_for(card.bid_strategy, transport)
    return Offer(
        card=card,
        billing_event=event,
        price_millis=card.max_bid_amount * multiplier,
        score=expected_value(card, transport),
    )


def hold_millis(strategy: str, max_bid_amount: int) -> int:
    """The hold a placement of this campaign takes: the most it can bill on any transport."""
    return max(max_bid_amount * billing_for(strategy, t)[1] for t in ("http", "mcp"))


def exclusion(
    card: CampaignCard, settlement: Settlement, now: dt.datetime, *, url_matched: bool = False
) -> str | None:
    """The first rule that keeps this campaign from answering, or None if it may.
    `url_matched`: the caller already knows the URL patterns match (the index checked)."""
    if now < card.schedule_start or (card.schedule_end is not None and now >= card.schedule_end):
        return EXCLUDED_SCHEDULE
    if card.networks and settlement.network not in card.networks:
        return EXCLUDED_NETWORK
    if card.transports and settlement.transport not in card.transports:
        return EXCLUDED_TRANSPORT
    if (
        not url_matched
        and card.patterns
        and not any(p.match(settlement.resource_url) for p in card.patterns)
    ):
        return EXCLUDED_URL_PATTERN
    if card.categories:
        haystack = f"{settlement.resource_url} {settlement.description}".lower()
        if not any(category in haystack for category in card.categories):
            return EXCLUDED_CATEGORY
    if card.rec_resource_key == settlement.resource_key:
        return EXCLUDED_SAME_RESOURCE
    if card.advertiser_wallet == settlement.payer:
        return EXCLUDED_SELF_DEALING
    return None


def rank(
    cards: Iterable[CampaignCard],
    settlement: Settlement,
    now: dt.datetime,
    rng: random.Random,
    *,
    url_matched: bool = False,
    offers: dict | None = None,
) -> list[Offer]:
    """Eligible campaigns, best first: highest expected value per placement (price times
    the estimated rate of its billable event), ties in random order.

    `offers` memoises offer_for by (campaign, transport): a card's offer depends only on the
    card, so a snapshot of the campaigns can keep them."""
    transport = settlement.transport
    eligible = []
    for card in cards:
        if exclusion(card, settlement, now, url_matched=url_matched) is not None:
            continue
        if offers is None:
            eligible.append(offer_for(card, transport))
            continue
        key = (card.id, transport)
        offer = offers.get(key)
        if offer is None:
            offer = offers[key] = offer_for(card, transport)
        eligible.append(offer)
    keyed = [(-offer.score, rng.random(), index) for index, offer in enumerate(eligible)]
    keyed.sort()
    return [eligible[index] for _, _, index in keyed]


def exclusions(
    cards: Sequence[CampaignCard], settlement: Settlement, now: dt.datetime
) -> dict[str, str | None]:
    """For each campaign id, why it was excluded (None when eligible)."""
    return {card.id: exclusion(card, settlement, now) for card in cards}
