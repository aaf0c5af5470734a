"""Writes for advertisers and campaigns, and the placement of a campaign on a settlement.

Every budget figure is changed by one conditional UPDATE whose WHERE clause states the
invariant, so concurrent requests cannot overrun a budget: PostgreSQL re-checks the
condition on the locked, current row before applying the change.
"""

import datetime as dt
import logging
import random
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThanOrEqual

from adnet.core import clock
from adnet.core.errors import ValidationFailed
from adnet.core.money import MILLIS_PER_ATOMIC
from campaigns import tokens
from campaigns.errors import (
    AdvertiserNotFound,
    BudgetBelowCommitted,
    BudgetTooSmall,
    InvalidTransition,
)
from campaigns.matching import engine
from campaigns.models import Advertiser, Campaign, MatchRequest, PayerDailyCount, Placement
from campaigns.selectors import advertiser_exists, live_campaigns
from facilitators import services as facilitator_services
from facilitators.services import IssuedKey

logger = logging.getLogger(__name__)

# Bounded so a settlement with many eligible but full campaigns still answers quickly.
MAX_PLACEMENT_ATTEMPTS = 8

_rng = random.Random()


# --- Advertisers -------------------------------------------------------------------------


def create_advertiser(*, name: str, wallet_address: str, network: str) -> Advertiser:
    return Advertiser.objects.create(name=name, wallet_address=wallet_address, network=network)


def issue_advertiser_key(*, advertiser_id: uuid.UUID, name: str = "") -> IssuedKey:
    if not advertiser_exists(advertiser_id):
        raise AdvertiserNotFound()
    return facilitator_services.issue_advertiser_key(advertiser_id=advertiser_id, name=name)


# --- Campaigns ---------------------------------------------------------------------------

_CHECKED_FIELDS = (
    "budget_total",
    "budget_daily",
    "max_bid_amount",
    "bid_strategy",
    "schedule_start",
    "schedule_end",
)


def _check_values(values: dict[str, Any]) -> None:
    """Rules across fields, stated in words an advertiser can act on."""
    errors: dict[str, list[str]] = {}
    if values["budget_daily"] > values["budget_total"]:
        errors.setdefault("budget_daily", []).append("Must not be more than budget_total.")
    hold = engine.hold_millis(values["bid_strategy"], values["max_bid_amount"])
    if values["budget_total"] * MILLIS_PER_ATOMIC < hold:
        errors.setdefault("budget_total", []).append(
            "Too small to pay for a single placement at max_bid_amount."
        )
    if values["budget_daily"] * MILLIS_PER_ATOMIC < hold:
        errors.setdefault("budget_daily", []).append(
            "Too small to pay for a single placement at max_bid_amount."
        )
    end = values.get("schedule_end")
    if end is not None and end <= values["schedule_start"]:
        errors.setdefault("schedule_end", []).append("Must be after schedule_start.")
    if errors:
        raise ValidationFailed(details=errors)


def create_campaign(*, advertiser_id: uuid.UUID, values: dict[str, Any]) -> Campaign:
    values = {"bid_strategy": Campaign.BidStrategy.CPA, "schedule_end": None, **values}
    _check_values(values)
    advertiser = Advertiser.objects.filter(pk=advertiser_id).first()
    if advertiser is None:
        raise ValidationFailed(details={"advertiser_id": ["No such advertiser."]})
    return Campaign.objects.create(advertiser=advertiser, status=Campaign.Status.DRAFT, **values)


def update_campaign(*, campaign: Campaign, changes: dict[str, Any]) -> Campaign:
    if not changes:
        return campaign
    merged = {name: changes.get(name, getattr(campaign, name)) for name in _CHECKED_FIELDS}
    _check_values(merged)
    now = clock.now()
    today = clock.utc_day(now)
    stale = ~Q(day=today)
    try:
        with transaction.atomic():
            # The check constraints refuse a budget below what is charged or held, atomically
            # with any concurrent hold. Counters of a past day no longer bind and restart.
            Campaign.objects.filter(pk=campaign.pk).update(
                **changes,
                updated_at=now,
                day_spent_millis=Case(
                    When(stale, then=Value(0)),
                    default=F("day_spent_millis"),
                    output_field=BigIntegerField(),
                ),
                day_held_millis=Case(
                    When(stale, then=Value(0)),
                    default=F("day_held_millis"),
                    output_field=BigIntegerField(),
                ),
                day=Case(When(stale, then=Value(today)), default=F("day")),
            )
    except IntegrityError as exc:
        if "committed_within" in str(exc):
            raise BudgetBelowCommitted() from exc
        raise ValidationFailed(
            details={"budget_daily": ["Must not be more than budget_total."]}
        ) from exc
    campaign.refresh_from_db()
    return campaign


def activate_campaign(*, campaign: Campaign) -> Campaign:
    now = clock.now()
    hold = engine.hold_millis(campaign.bid_strategy, campaign.max_bid_amount)
    activated = (
        Campaign.objects.filter(pk=campaign.pk)
        .exclude(status=Campaign.Status.ACTIVE)
        .filter(Q(schedule_end__isnull=True) | Q(schedule_end__gt=now))
        .filter(GreaterThanOrEqual(F("budget_total") * MILLIS_PER_ATOMIC - F("spent_millis"), hold))
        .update(status=Campaign.Status.ACTIVE, updated_at=now)
    )
    campaign.refresh_from_db()
    if activated or campaign.status == Campaign.Status.ACTIVE:
        return campaign
    if campaign.schedule_end is not None and campaign.schedule_end <= now:
        raise InvalidTransition("The campaign's schedule_end has passed; extend it first.")
    raise BudgetTooSmall("Raise budget_total first: what is left cannot pay for one placement.")


def pause_campaign(*, campaign: Campaign) -> Campaign:
    paused = Campaign.objects.filter(
        pk=campaign.pk, status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED]
    ).update(status=Campaign.Status.PAUSED, updated_at=clock.now())
    campaign.refresh_from_db()
    if not paused:
        raise InvalidTransition(f"Only an active campaign can be paused (it is {campaign.status}).")
    return campaign


def complete_ended_campaigns(*, now: dt.datetime | None = None) -> int:
    now = now or clock.now()
    return Campaign.objects.filter(
        status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED], schedule_end__lte=now
    ).update(status=Campaign.Status.COMPLETED, updated_at=now)


# --- Matching: placing a campaign on a settlement ------------------------------------------


@dataclass(frozen=True)
class MatchOutcome:
    request: MatchRequest
    placement: Placement | None = None
    campaign: Campaign | None = None
    token: str | None = None


def _take_frequency_slot(campaign_id: uuid.UUID, payer: str, day: dt.date, cap: int) -> bool:
    """One more placement for this payer today, if under the cap: a single atomic upsert."""
    table = PayerDailyCount._meta.db_table
    campaign_param = Campaign._meta.pk.get_db_prep_value(campaign_id, connection)
    day_param = PayerDailyCount._meta.get_field("day").get_db_prep_value(day, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, payer, day, count) VALUES (%s, %s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (campaign_id, payer, day) DO UPDATE SET count = {table}.count + 1 "
            f"WHERE {table}.count < %s RETURNING count",
            [campaign_param, payer, day_param, cap],
        )
        return cursor.fetchone() is not None


def _take_hold(campaign_id: uuid.UUID, hold: int, day: dt.date, now: dt.datetime) -> bool:
    """Hold `hold` millis of the total and of today's budget, or nothing. One UPDATE."""
    today = Q(day=day)
    day_committed = Case(
        When(today, then=F("day_spent_millis") + F("day_held_millis")), default=Value(0)
    )
    return bool(
        Campaign.objects.filter(
            pk=campaign_id, status=Campaign.Status.ACTIVE, schedule_start__lte=now
        )
        .filter(Q(schedule_end__isnull=True) | Q(schedule_end__gt=now))
        # Never roll the day backwards: a request whose clock is behind simply passes.
        .filter(Q(day__isnull=True) | Q(day__lte=day))
        .filter(
            GreaterThanOrEqual(
                F("budget_total") * MILLIS_PER_ATOMIC - F("spent_millis") - F("held_millis"), hold
            ),
            LessThanOrEqual(day_committed, F("budget_daily") * MILLIS_PER_ATOMIC - hold),
        )
        .update(
            held_millis=F("held_millis") + hold,
            day_held_millis=Case(
                When(today, then=F("day_held_millis") + hold), default=Value(hold)
            ),
            day_spent_millis=Case(When(today, then=F("day_spent_millis")), default=Value(0)),
            day=day,
        )
    )


def _mark_exhausted_if_spent(campaign_id: uuid.UUID, hold: int, now: dt.datetime) -> None:
    """Charges alone leave no room for one more hold: the campaign is done for good."""
    Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.ACTIVE).filter(
        GreaterThan(F("spent_millis") + hold, F("budget_total") * MILLIS_PER_ATOMIC)
    ).update(status=Campaign.Status.EXHAUSTED, updated_at=now)


def _lifetime(campaign: Campaign, billing_event: str) -> dt.timedelta:
    """How long a placement may still bill: its beacon/click life, or its attribution window."""
    seconds = 0 if billing_event == engine.EVENT_CONVERSION else settings.IMPRESSION_TTL_SECONDS
    if billing_event == engine.EVENT_CONVERSION or campaign.bid_strategy == engine.STRATEGY_HYBRID:
        seconds = max(seconds, campaign.attribution_window_seconds)
    return dt.timedelta(seconds=seconds)


def _try_place(
    offer: engine.Offer,
    campaign: Campaign,
    request: MatchRequest,
    settlement: engine.Settlement,
    now: dt.datetime,
) -> Placement | None:
    day = clock.utc_day(now)
    hold = engine.hold_millis(campaign.bid_strategy, campaign.max_bid_amount)
    savepoint = transaction.savepoint()
    try:
        if not _take_frequency_slot(campaign.id, settlement.payer, day, offer.card.frequency_cap):
            transaction.savepoint_rollback(savepoint)
            return None
        if not _take_hold(campaign.id, hold, day, now):
            transaction.savepoint_rollback(savepoint)
            _mark_exhausted_if_spent(campaign.id, hold, now)
            return None
        placement = Placement.objects.create(
            campaign=campaign,
            facilitator_id=request.facilitator_id,
            match_request=request,
            payer=settlement.payer,
            network=settlement.network,
            transport=settlement.transport,
            resource_url=settlement.resource_url,
            conversion_resource=campaign.rec_resource_url,
            bid_strategy=campaign.bid_strategy,
            billing_event=offer.billing_event,
            price_millis=hold,
            hold_millis=hold,
            hold_day=day,
            matched_at=now,
            expires_at=now + _lifetime(campaign, offer.billing_event),
        )
    except BaseException:
        transaction.savepoint_rollback(savepoint)
        raise
    transaction.savepoint_commit(savepoint)
    return placement


def match_settlement(
    *,
    facilitator_id: uuid.UUID,
    settlement: engine.Settlement,
    settled_amount: int,
    tx_hash: str = "",
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> MatchOutcome:
    """Record the observed settlement and, if a campaign can pay for it, place it.

    The observation is written whether or not anything matches: it is how the network
    later computes fill rate and attributes conversions.
    """
    now = now or clock.now()
    live = live_campaigns(now)
    offers = engine.rank(live.cards, settlement, now, rng or _rng)
    with transaction.atomic():
        request = MatchRequest.objects.create(
            facilitator_id=facilitator_id,
            received_at=now,
            resource_url=settlement.resource_url,
            resource_description=settlement.description[:1000],
            network=settlement.network,
            payer=settlement.payer,
            settled_amount=settled_amount,
            transport=settlement.transport,
            tx_hash=tx_hash,
        )
        for offer in offers[:MAX_PLACEMENT_ATTEMPTS]:
            campaign = live.rows[offer.card.id]
            placement = _try_place(offer, campaign, request, settlement, now)
            if placement is not None:
                MatchRequest.objects.filter(pk=request.pk).update(matched=True)
                request.matched = True
                token = tokens.encode(placement.id, placement.expires_at)
                return MatchOutcome(
                    request=request, placement=placement, campaign=campaign, token=token
                )
    return MatchOutcome(request=request)


# --- Releasing holds that can no longer bill ---------------------------------------------------


def release_hold(*, placement_id: uuid.UUID, to_state: str = Placement.State.EXPIRED) -> bool:
    """Give a placement's hold back to its campaign, once. Compare-and-set on the hold."""
    with transaction.atomic():
        row = (
            Placement.objects.filter(
                pk=placement_id, state__in=Placement.OPEN_STATES, hold_millis__gt=0
            )
            .values("campaign_id", "hold_millis", "hold_day")
            .first()
        )
        if row is None:
            return False
        hold = row["hold_millis"]
        claimed = Placement.objects.filter(
            pk=placement_id, state__in=Placement.OPEN_STATES, hold_millis=hold
        ).update(state=to_state, hold_millis=0)
        if not claimed:
            return False
        Campaign.objects.filter(pk=row["campaign_id"]).update(
            held_millis=F("held_millis") - hold,
            # Today's counters only speak of today's placements; an older hold leaves them be.
            day_held_millis=Case(
                When(day=row["hold_day"], then=F("day_held_millis") - hold),
                default=F("day_held_millis"),
                output_field=BigIntegerField(),
            ),
        )
        return True


def release_expired_holds(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    now = now or clock.now()
    expired = list(
        Placement.objects.filter(
            state__in=Placement.OPEN_STATES, hold_millis__gt=0, expires_at__lte=now
        ).values_list("id", flat=True)[:limit]
    )
    return sum(release_hold(placement_id=placement_id) for placement_id in expired)


# --- Delivery and impressions (called by the events app) -----------------------------------


def record_delivery(*, placement_id: uuid.UUID, now: dt.datetime) -> bool:
    """The placement's first valid settlement event: delivered, exactly once."""
    return bool(
        Placement.objects.filter(pk=placement_id, delivered_at__isnull=True).update(
            delivered_at=now,
            state=Case(
                When(state=Placement.State.MATCHED, then=Value(Placement.State.DELIVERED)),
                default=F("state"),
            ),
        )
    )


def verify_impression(*, placement_id: uuid.UUID, now: dt.datetime, transports: tuple) -> bool:
    """Count the placement's one impression, if it is still open and of these transports.

    One conditional UPDATE: concurrent beacons or replayed events race on the row lock and
    exactly one of them sees impression_at still empty.
    """
    return bool(
        Placement.objects.filter(
            pk=placement_id,
            impression_at__isnull=True,
            state__in=Placement.OPEN_STATES,
            expires_at__gt=now,
            transport__in=transports,
        ).update(impression_at=now, state=Placement.State.IMPRESSION)
    )
