"""Reads for advertisers and campaigns, scoped to what the caller may see."""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from campaigns.errors import AdvertiserNotFound, CampaignNotFound
from campaigns.matching import patterns
from campaigns.matching.engine import CampaignCard
from campaigns.models import Advertiser, Campaign, Placement
from facilitators.selectors import Principal


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


def advertiser_exists(advertiser_id: uuid.UUID) -> bool:
    return Advertiser.objects.filter(pk=advertiser_id).exists()


@dataclass(frozen=True)
class LiveCampaigns:
    """The campaigns that may answer now: plain cards for the engine, rows for the answer."""

    cards: list[CampaignCard]
    rows: dict[str, Campaign]


def card_for(campaign: Campaign) -> CampaignCard:
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
    )


def live_campaigns(now: dt.datetime) -> LiveCampaigns:
    rows = (
        Campaign.objects.select_related("advertiser")
        .filter(status=Campaign.Status.ACTIVE, schedule_start__lte=now)
        .filter(Q(schedule_end__isnull=True) | Q(schedule_end__gt=now))
    )
    by_id = {str(row.id): row for row in rows}
    return LiveCampaigns(cards=[card_for(row) for row in by_id.values()], rows=by_id)


def placement_with_campaign(placement_id: uuid.UUID) -> Placement | None:
    return Placement.objects.select_related("campaign__advertiser").filter(pk=placement_id).first()
