"""Reads for advertisers and campaigns, scoped to what the caller may see."""

import datetime as dt
import json
import uuid

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet

from campaigns.errors import AdvertiserNotFound, CampaignNotFound
from campaigns.matching import patterns
from campaigns.matching.engine import NO_HISTORY, CampaignCard, History
from campaigns.models import (
    MAX_ATTRIBUTION_WINDOW_SECONDS,
    Advertiser,
    Campaign,
    JournalSetAside,
    LostPlacement,
    Placement,
)
from facilitators.selectors import Principal

# Triples per open-touch query (open_touches).
TOUCH_PROBES = 500

# Each triple looks for one placement of its own, LIMIT 1 in a LATERAL subquery, so the plan
# is always one index probe per triple. With a plain EXISTS the planner chose, for a table
# of some tens of thousands of placements (every one still in its attribution window, so
# the deadline filter passes them all), to hash the whole table instead: 37-54 ms per 500
# triples at 45,000 placements, against 3-4.5 ms for the probes (docs/benchmarks.md). A
# filter on the payers alone would read every open placement of a busy payer. The triples
# go as one JSON array of [payer, network, key]: one call into the JSON encoder's C code,
# where three array parameters were adapted value by value in Python by the driver.
# The index ends with matched_at, and no placement whose match is older than the longest
# attribution window can still be open: the probe reads only the index range after
# that (touch_horizon), not every placement the payer was ever shown for that resource.
OPEN_TOUCH_SQL = (
    "SELECT t->>0, t->>1, t->>2 FROM jsonb_array_elements(%s::jsonb) AS t "  # noqa: S608
    f"CROSS JOIN LATERAL (SELECT 1 FROM {Placement._meta.db_table} p "
    "WHERE p.payer = t->>0 AND p.network = t->>1 AND p.conversion_key = t->>2 "
    "AND p.matched_at >= %s AND p.attribution_deadline >= %s LIMIT 1) AS open_touch"
)
# Triples per query elsewhere (SQLite, the quick start): an OR of conditions, kept short.
PORTABLE_TOUCH_PROBES = 100


def _scope(principal: Principal) -> uuid.UUID | None:
    """The advertiser an advertiser key is confined to; None for operators (everything)."""
    return None if principal.is_operator else principal.advertiser_id


def advertisers_for(principal: Principal) -> QuerySet[Advertiser]:
    scope = _scope(principal)
    qs = Advertiser.objects.all()
    return qs if scope is None else qs.filter(pk=scope)


def advertiser_for(principal: Principal, advertiser_id: uuid.UUID) -> Advertiser:
    advertiser = advertisers_for(principal).filter(pk=advertiser_id).first()
    if advertiser is None:
        raise AdvertiserNotFound()
    return advertiser


def campaigns_for(
    principal: Principal, *, status: str | None = None, advertiser_id: uuid.UUID | None = None
) -> QuerySet[Campaign]:
    scope = _scope(principal)
    qs = Campaign.objects.select_related("advertiser").order_by("-created_at", "id")
    if scope is not None:
        qs = qs.filter(advertiser_id=scope)
    if status:
        qs = qs.filter(status=status)
    if advertiser_id:
        qs = qs.filter(advertiser_id=advertiser_id)
    return qs


def campaign_for(principal: Principal, campaign_id: uuid.UUID) -> Campaign:
    """The campaign if the caller may see it. Another advertiser's campaign looks missing."""
    campaign = campaigns_for(principal).filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def recommendation_of(campaign: Campaign) -> dict[str, str]:
    """What agents are shown for this campaign: the compatible `recommendation` object of a
    match answer (wire-contract §2), its optional fields only when the campaign has them."""
    recommendation = {
        "resourceUrl": campaign.rec_resource_url,
        "description": campaign.rec_description,
        "sponsor": campaign.rec_sponsor_name,
    }
    if campaign.rec_bazaar_id:
        recommendation["bazaarId"] = campaign.rec_bazaar_id
    if campaign.rec_price is not None:
        recommendation["price"] = str(campaign.rec_price)
    if campaign.rec_currency:
        recommendation["currency"] = campaign.rec_currency
    return recommendation


def advertiser_exists(advertiser_id: uuid.UUID) -> bool:
    return Advertiser.objects.filter(pk=advertiser_id).exists()


def card_for(campaign: Campaign, history: History | None = None) -> CampaignCard:
    return CampaignCard(
        id=str(campaign.id),
        advertiser_wallet=campaign.advertiser.wallet_address,
        bid_strategy=campaign.bid_strategy,
        max_bid_amount=campaign.max_bid_amount,
        rec_resource_key=patterns.resource_key(campaign.rec_resource_url),
        networks=frozenset(campaign.target_networks or ()),
        transports=frozenset(campaign.target_transports or ()),
        patterns=tuple(patterns.compile_glob(p) for p in campaign.target_url_patterns or ()),
        categories=tuple(c.lower() for c in campaign.target_categories or ()),
        schedule_start=campaign.schedule_start,
        schedule_end=campaign.schedule_end,
        frequency_cap=campaign.frequency_cap or settings.DEFAULT_FREQUENCY_CAP,
        stats=history or NO_HISTORY,
    )


HISTORY_WINDOW = dt.timedelta(days=7)


def recent_history(now: dt.datetime) -> dict[uuid.UUID, History]:
    """Each campaign's placements of the last week and how many became billable events."""
    rows = (
        Placement.objects.filter(matched_at__gte=now - HISTORY_WINDOW)
        .values("campaign_id")
        .annotate(
            placements=Count("id"),
            impressions=Count("impression_at"),
            clicks=Count("clicked_at"),
            conversions=Count("id", filter=Q(state=Placement.State.CONVERTED)),
        )
    )
    return {
        row["campaign_id"]: History(
            placements=row["placements"],
            impressions=row["impressions"],
            clicks=row["clicks"],
            conversions=row["conversions"],
        )
        for row in rows
    }


def campaign_resource(campaign_id: uuid.UUID) -> str | None:
    """The resource a campaign recommends (where its clicks lead), or None if unknown."""
    return (
        Campaign.objects.filter(pk=campaign_id).values_list("rec_resource_url", flat=True).first()
    )


def placement_with_campaign(placement_id: uuid.UUID) -> Placement | None:
    return Placement.objects.select_related("campaign__advertiser").filter(pk=placement_id).first()


def open_touches(
    triples: set[tuple[str, str, str]], since: dt.datetime
) -> set[tuple[str, str, str]]:
    """Which of these (payer, network, conversion key) triples a placement recommended whose
    attribution window is still open at `since`. A settlement whose own triple is not among
    them cannot be the conversion of any placement: it needs no attribution.

    On PostgreSQL, one index probe per triple (the placement index on payer, network,
    conversion key), a few hundred triples per query (OPEN_TOUCH_SQL)."""
    if connection.vendor != "postgresql":
        return _open_touches_portable(triples, since)
    found: set[tuple[str, str, str]] = set()
    ordered = sorted(triples)
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), TOUCH_PROBES):
            chunk = ordered[start : start + TOUCH_PROBES]
            cursor.execute(
                OPEN_TOUCH_SQL,
                [json.dumps(chunk, separators=(",", ":")), touch_horizon(since), since],
            )
            found.update(cursor.fetchall())
    return found


def touch_horizon(at: dt.datetime) -> dt.datetime:
    """The earliest match a placement still open for attribution at `at` can have: its
    deadline is at most MAX_ATTRIBUTION_WINDOW_SECONDS after its match (a campaign
    constraint)."""
    return at - dt.timedelta(seconds=MAX_ATTRIBUTION_WINDOW_SECONDS)


def _open_touches_portable(
    triples: set[tuple[str, str, str]], since: dt.datetime
) -> set[tuple[str, str, str]]:
    """open_touches in plain ORM terms, for any database."""
    found: set[tuple[str, str, str]] = set()
    ordered = sorted(triples)
    for start in range(0, len(ordered), PORTABLE_TOUCH_PROBES):
        touch = Q()
        for payer, network, key in ordered[start : start + PORTABLE_TOUCH_PROBES]:
            touch |= Q(payer=payer, network=network, conversion_key=key)
        found.update(
            Placement.objects.filter(
                touch, matched_at__gte=touch_horizon(since), attribution_deadline__gte=since
            )
            .values_list("payer", "network", "conversion_key")
            .distinct()
        )
    return found


def journal_set_aside_count(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> int:
    """How many match journal records were set aside (campaigns.journal), in [since, until)."""
    rows = JournalSetAside.objects.all()
    if since is not None:
        rows = rows.filter(set_aside_at__gte=since)
    if until is not None:
        rows = rows.filter(set_aside_at__lt=until)
    return rows.count()


def lost_placement_count(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> int:
    """How many placements the network lost (signed, never written; LostPlacement), first
    seen in [since, until)."""
    rows = LostPlacement.objects.all()
    if since is not None:
        rows = rows.filter(seen_at__gte=since)
    if until is not None:
        rows = rows.filter(seen_at__lt=until)
    return rows.values("placement_id").distinct().count()
