"""Who the signed-in person is to the network (operator or one advertiser), and their reads."""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import AdvertiserMembership
from adnet.core import clock
from adnet.core.money import MILLIS_PER_ATOMIC
from campaigns.models import Advertiser, Campaign
from reports.models import Granularity, TrafficRollup


@dataclass(frozen=True)
class Tenant:
    """Operators (superusers) see everything; an advertiser user sees one advertiser;
    anyone else (staff with no advertiser) sees no campaign at all."""

    is_operator: bool
    advertiser_id: uuid.UUID | None

    @property
    def is_advertiser(self) -> bool:
        return self.advertiser_id is not None

    def owns(self, advertiser_id: uuid.UUID | None) -> bool:
        return self.is_operator or (self.is_advertiser and advertiser_id == self.advertiser_id)


def tenant_of(user) -> Tenant:
    """Loaded once per request: the admin asks many times while building one page."""
    cached = getattr(user, "_adnet_tenant", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        tenant = Tenant(is_operator=False, advertiser_id=None)
    elif user.is_superuser:
        tenant = Tenant(is_operator=True, advertiser_id=None)
    else:
        advertiser_id = (
            AdvertiserMembership.objects.filter(user_id=user.pk)
            .values_list("advertiser_id", flat=True)
            .first()
        )
        tenant = Tenant(is_operator=False, advertiser_id=advertiser_id)
    user._adnet_tenant = tenant
    return tenant


def campaigns_of(tenant: Tenant) -> QuerySet[Campaign]:
    qs = Campaign.objects.select_related("advertiser")
    if tenant.is_operator:
        return qs
    if tenant.is_advertiser:
        return qs.filter(advertiser_id=tenant.advertiser_id)
    return qs.none()


def advertisers_of(tenant: Tenant) -> QuerySet[Advertiser]:
    if tenant.is_operator:
        return Advertiser.objects.all()
    if tenant.is_advertiser:
        return Advertiser.objects.filter(pk=tenant.advertiser_id)
    return Advertiser.objects.none()


@dataclass(frozen=True)
class CampaignFigures:
    """What the campaign list shows of one campaign's delivery, from the daily rollups."""

    placements: int = 0
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    billed_millis: int = 0

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def cost_per_conversion_millis(self) -> int | None:
        return self.billed_millis // self.conversions if self.conversions else None


def campaign_figures(campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, CampaignFigures]:
    """Lifetime figures of these campaigns (one page of the list): one grouped query."""
    measures = ("placements", "impressions", "clicks", "conversions", "billed_millis")
    rows = (
        TrafficRollup.objects.filter(granularity=Granularity.DAY, campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(**{name: Coalesce(Sum(name), 0) for name in measures})
    )
    return {
        row["campaign_id"]: CampaignFigures(**{name: row[name] for name in measures})
        for row in rows
    }


@dataclass(frozen=True)
class Pace:
    """Today's spend of a running campaign against the even-delivery line of its daily budget."""

    state: str  # "not running", "ahead", "on pace" or "behind"
    spent_today_millis: int
    share_of_daily: float


# Within this fraction of the even line counts as on pace.
PACE_TOLERANCE = 0.1


def pace_of(campaign: Campaign, now: dt.datetime) -> Pace:
    today = clock.utc_day(now)
    spent = campaign.day_spent_millis if campaign.day == today else 0
    daily = campaign.budget_daily * MILLIS_PER_ATOMIC
    share = spent / daily if daily else 0.0
    if campaign.status != Campaign.Status.ACTIVE:
        return Pace("not running", spent, share)
    day_start, _ = clock.day_bounds(today)
    line = (now - day_start).total_seconds() / 86400
    if share > line + PACE_TOLERANCE:
        state = "ahead"
    elif share < line - PACE_TOLERANCE:
        state = "behind"
    else:
        state = "on pace"
    return Pace(state, spent, share)
