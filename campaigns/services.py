"""Writes for advertisers and campaigns, and the placement of a campaign on a settlement.

Every budget figure is changed by one conditional UPDATE whose WHERE clause states the
invariant, so concurrent requests cannot overrun a budget: PostgreSQL re-checks the
condition on the locked, current row before applying the change.
"""

import contextlib
import datetime as dt
import logging
import random
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThanOrEqual

from adnet.core import clock, ids, ratelimits
from adnet.core.errors import ValidationFailed
from adnet.core.money import MILLIS_PER_ATOMIC
from campaigns import budget, catalog, grants, journal, selectors, tokens, validation
from campaigns.errors import (
    AdvertiserNotFound,
    BudgetBelowCommitted,
    BudgetTooSmall,
    InvalidTransition,
)
from campaigns.matching import engine
from campaigns.models import (
    Advertiser,
    Campaign,
    CatalogVersion,
    LostPlacement,
    MatchRequest,
    PayerDailyCount,
    Placement,
    TxClaim,
)
from campaigns.selectors import advertiser_exists
from campaigns.terms import conversion_key, lifetime, on_day, release_at, waits_for_evidence
from facilitators import services as facilitator_services
from facilitators.services import IssuedKey

logger = logging.getLogger(__name__)

# Bounded so a settlement with many eligible but full campaigns still answers quickly.
MAX_PLACEMENT_ATTEMPTS = 8

_rng = random.Random()
# Set by refills_after_answer: where a match leaves the refills it may put off.
_refills_after_answer: ContextVar[list[tuple[str, bool]] | None] = ContextVar(
    "refills_after_answer", default=None
)


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
    """Rules across fields (campaigns.validation), stated in words an advertiser can act on."""
    errors = validation.campaign_errors(values)
    if errors:
        raise ValidationFailed(details=errors)


def bump_catalog() -> None:
    """Tell every process that the live campaigns changed (see campaigns.catalog)."""
    if not CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1):
        # No row (a flushed table): 1, not the model's 0, which is also what catalog.version()
        # says of no row, so the change would go unseen.
        CatalogVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    catalog.forget()
    transaction.on_commit(_publish_catalog)


def _publish_catalog() -> None:
    catalog.forget()
    if not budget.enabled():
        return
    try:
        budget.publish_catalog_version(catalog.version())
    except budget.redis.RedisError:
        # Other processes then see the change within a minute (catalog._renewed).
        logger.warning("could not publish the catalog version to Redis")


def create_campaign(*, advertiser_id: uuid.UUID, values: dict[str, Any]) -> Campaign:
    values = {"bid_strategy": Campaign.BidStrategy.CPA, "schedule_end": None, **values}
    _check_values(values)
    advertiser = Advertiser.objects.filter(pk=advertiser_id).first()
    if advertiser is None:
        raise ValidationFailed(details={"advertiser_id": ["No such advertiser."]})
    with transaction.atomic():
        campaign = Campaign.objects.create(
            advertiser=advertiser, status=Campaign.Status.DRAFT, **values
        )
        bump_catalog()
    return campaign


def update_campaign(*, campaign: Campaign, changes: dict[str, Any]) -> Campaign:
    if not changes:
        return campaign
    merged = {name: changes.get(name, getattr(campaign, name)) for name in _CHECKED_FIELDS}
    _check_values(merged)
    now = clock.now()
    # What Redis holds of the old budget goes back first, so a lower budget is checked
    # against what is really committed; the next match takes a grant on the new terms.
    grants.retire_campaign(campaign.pk, now=now)
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
            bump_catalog()
    except IntegrityError as exc:
        if "committed_within" in str(exc):
            campaign.refresh_from_db()
            details = validation.below_committed_errors(campaign, changes, today) or None
            raise BudgetBelowCommitted(details=details) from exc
        raise ValidationFailed(details={"budget_daily": [validation.DAILY_ABOVE_TOTAL]}) from exc
    campaign.refresh_from_db()
    return campaign


def activate_campaign(*, campaign: Campaign) -> Campaign:
    now = clock.now()
    hold = engine.hold_millis(campaign.bid_strategy, campaign.max_bid_amount)
    with transaction.atomic():
        activated = (
            Campaign.objects.filter(pk=campaign.pk)
            .exclude(status=Campaign.Status.ACTIVE)
            .filter(Q(schedule_end__isnull=True) | Q(schedule_end__gt=now))
            .filter(
                GreaterThanOrEqual(F("budget_total") * MILLIS_PER_ATOMIC - F("spent_millis"), hold)
            )
            .update(status=Campaign.Status.ACTIVE, updated_at=now)
        )
        if activated:
            bump_catalog()
    campaign.refresh_from_db()
    if activated or campaign.status == Campaign.Status.ACTIVE:
        return campaign
    if campaign.schedule_end is not None and campaign.schedule_end <= now:
        raise InvalidTransition("The campaign's schedule_end has passed; extend it first.")
    raise BudgetTooSmall("Raise budget_total first: what is left cannot pay for one placement.")


def pause_campaign(*, campaign: Campaign) -> Campaign:
    with transaction.atomic():
        paused = Campaign.objects.filter(
            pk=campaign.pk, status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED]
        ).update(status=Campaign.Status.PAUSED, updated_at=clock.now())
        bump_catalog()
    grants.retire_campaign(campaign.pk)
    campaign.refresh_from_db()
    if not paused:
        raise InvalidTransition(f"Only an active campaign can be paused (it is {campaign.status}).")
    return campaign


def complete_ended_campaigns(*, now: dt.datetime | None = None) -> int:
    now = now or clock.now()
    with transaction.atomic():
        completed = Campaign.objects.filter(
            status__in=[Campaign.Status.ACTIVE, Campaign.Status.PAUSED], schedule_end__lte=now
        ).update(status=Campaign.Status.COMPLETED, updated_at=now)
        if completed:
            bump_catalog()
    return completed


# --- Matching: placing a campaign on a settlement ------------------------------------------


@dataclass(frozen=True, slots=True)
class Placed:
    """The placement a match made, as the answer needs it (its row may not be written yet)."""

    id: uuid.UUID
    conversion_resource: str


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    placement: Placed | None = None
    campaign: Campaign | None = None
    token: str | None = None


NO_MATCH = MatchOutcome()


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


def paced_limit(campaign: Campaign, now: dt.datetime) -> int | None:
    """Even pacing: by this time of the UTC day, at most this share of the daily budget
    (in millis) may be committed; a short lookahead lets delivery start at midnight.
    None for asap campaigns, which may use the whole day's budget at once."""
    if campaign.pacing == Campaign.Pacing.ASAP:
        return None
    start, _ = clock.day_bounds(clock.utc_day(now))
    elapsed = int((now - start).total_seconds()) + settings.PACING_LOOKAHEAD_SECONDS
    daily = campaign.budget_daily * MILLIS_PER_ATOMIC
    return min(daily, daily * elapsed // 86_400)


def _take_hold(
    campaign_id: uuid.UUID, hold: int, day: dt.date, now: dt.datetime, pace: int | None = None
) -> bool:
    """Hold `hold` millis of the total and of today's budget, or nothing. One UPDATE.

    `pace` is the even-pacing ceiling of today's commitments (see paced_limit); the daily
    budget of the row itself is always checked too.
    """
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
            LessThanOrEqual(day_committed, Value(pace - hold if pace is not None else 2**62)),
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
    if (
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.ACTIVE)
        .filter(GreaterThan(F("spent_millis") + hold, F("budget_total") * MILLIS_PER_ATOMIC))
        .update(status=Campaign.Status.EXHAUSTED, updated_at=now)
    ):
        bump_catalog()


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
        if not _take_hold(campaign.id, hold, day, now, paced_limit(campaign, now)):
            transaction.savepoint_rollback(savepoint)
            _mark_exhausted_if_spent(campaign.id, hold, now)
            return None
        expires_at = now + lifetime(campaign, offer.billing_event)
        deadline = now + dt.timedelta(seconds=campaign.attribution_window_seconds)
        placement = Placement.objects.create(
            campaign=campaign,
            facilitator_id=request.facilitator_id,
            match_request=request,
            payer=settlement.payer,
            network=settlement.network,
            transport=settlement.transport,
            resource_url=settlement.resource_url,
            conversion_resource=campaign.rec_resource_url,
            conversion_key=conversion_key(campaign.rec_resource_url),
            bid_strategy=campaign.bid_strategy,
            billing_event=offer.billing_event,
            price_millis=hold,
            hold_millis=hold,
            hold_day=day,
            matched_at=now,
            expires_at=expires_at,
            attribution_deadline=deadline,
            release_at=release_at(
                waits_for_evidence(campaign, offer.billing_event), expires_at, deadline
            ),
        )
        if request.tx_hash and claim_tx(
            network=request.network,
            tx_hash=request.tx_hash,
            role=TxClaim.Role.ORIGINAL,
            placement_id=placement.id,
            now=now,
        ):
            Placement.objects.filter(pk=placement.pk).update(original_tx_hash=request.tx_hash)
            placement.original_tx_hash = request.tx_hash
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
    rate: ratelimits.Window | None = None,
) -> MatchOutcome:
    """Record the observed settlement and, if a campaign can pay for it, place it.

    The observation is recorded whether or not anything matches: it is how the network
    later computes fill rate and attributes conversions. With the Redis budget store the
    budget step and the record take one Redis round trip; if Redis cannot be reached,
    the database does both (slower, equally exact). `rate` is the caller's API-key rate
    window, counted in the same round trip (RateLimited when over; not counted, that is
    failing open, on the database path).
    """
    now = now or clock.now()
    if budget.enabled():
        try:
            return _match_in_redis(
                facilitator_id, settlement, settled_amount, tx_hash, now, rng, rate
            )
        except budget.redis.RedisError:
            logger.warning("budget store unreachable: matching in the database")
    return _match_in_database(facilitator_id, settlement, settled_amount, tx_hash, now, rng)


@contextlib.contextmanager
def refills_after_answer():
    """Within it, a match leaves the grant refills it calls for to its caller, to do once
    the answer is sent (`refill_later`); the list it yields collects them, as (campaign
    id, whether this request already holds the campaign's refill claim):

    - the grant the match took below its low mark (half spent): topped up at once, not up
      to two seconds later by the top-up task (which skips it once done). So a burst
      does not spend a grant to the end before it is renewed;
    - today's grants of its candidates, found spent before that could happen: the match
      answers with what it could place (often nothing), not after their refills. Those
      were tens of milliseconds of PostgreSQL work in the request on a busy machine,
      450 ms seen (docs/benchmarks.md). The claim keeps other requests from refilling
      them meanwhile.

    A campaign's first grant of the day is still made in the request that needs it: that
    answer is a placement that would otherwise be lost."""
    later: list[tuple[str, bool]] = []
    token = _refills_after_answer.set(later)
    try:
        yield later
    finally:
        _refills_after_answer.reset(token)


def refill_later(wanted: list[tuple[str, bool]]) -> None:
    """The refills a match left for after its answer. One whose claim another request or
    the top-up task holds is theirs; one that fails is logged and its claim released, so
    the next request or the top-up task tries again."""
    for campaign_id, claimed in wanted:
        now = clock.now()
        day = clock.utc_day(now).isoformat()
        try:
            if not claimed and not budget.claim_refill(campaign_id, day, budget.epoch_ms(now)):
                continue
            grants.refill(campaign_id, now=now)
        except Exception:
            logger.exception("refilling the grant of campaign %s failed", campaign_id)
            with contextlib.suppress(budget.redis.RedisError):
                budget.release_refill_claim(campaign_id, day)


def _match_in_redis(
    facilitator_id: uuid.UUID,
    settlement: engine.Settlement,
    settled_amount: int,
    tx_hash: str,
    now: dt.datetime,
    rng: random.Random | None,
    rate: ratelimits.Window | None,
) -> MatchOutcome:
    store = budget.store()
    live = catalog.snapshot(now)
    offers = live.rank(settlement, now, rng or _rng)[:MAX_PLACEMENT_ATTEMPTS]
    uid = ids.time_ordered_uuid(now)
    record = journal.request_record(
        uid=uid,
        facilitator_id=facilitator_id,
        received_at=now,
        settlement=settlement,
        settled_amount=settled_amount,
        tx_hash=tx_hash,
    )
    today = clock.utc_day(now).isoformat()
    now_ms = budget.epoch_ms(now)
    for attempt in range(4):
        counted = rate if attempt == 0 else None
        args = [
            store.prefix,
            today,
            settlement.payer,
            budget.FREQUENCY_TTL_SECONDS,
            record,
            "1" if attempt == 3 else "0",
            budget.REFILL_CLAIM_MS,
            "" if attempt == 3 else live.version,
            now_ms,
            counted.key if counted else "",
            counted.limit if counted else 0,
            counted.seconds if counted else 0,
            len(offers),
        ]
        args += [live.candidate(offer.card, offer.billing_event) for offer in offers]
        reply = store.run_match(args)
        if reply.status == budget.RATE_LIMITED:
            raise ratelimits.RateLimited(rate.wait())
        if not reply.catalog_version and reply.status != budget.NO_EPOCH:
            budget.publish_catalog_version(live.version)  # a new or flushed store
        if reply.status == budget.PLACED:
            later = _refills_after_answer.get()
            if later is not None and reply.low:
                later.append((reply.low, False))  # below its low mark: top it up
            break
        if reply.status == budget.NO_EPOCH:
            budget.ensure_epoch()
        elif reply.status == budget.STALE_CATALOG:
            fresh = catalog.refresh(now, live)
            if int(reply.catalog_version) != fresh.version:
                budget.publish_catalog_version(fresh.version, force=True)
            live = fresh
            offers = live.rank(settlement, now, rng or _rng)[:MAX_PLACEMENT_ATTEMPTS]
        elif reply.status == budget.WANTS_GRANTS:
            later = _refills_after_answer.get()
            for campaign_id in reply.wanted:
                if later is not None and campaign_id.startswith(budget.SPENT_GRANT):
                    # Spent: the script's claim is this request's, kept until the refill.
                    later.append((campaign_id.removeprefix(budget.SPENT_GRANT), True))
                else:
                    grants.refill(campaign_id.removeprefix(budget.SPENT_GRANT), now=now)
    winner = reply.winner
    if winner < 0:
        return NO_MATCH
    offer = offers[winner]
    campaign = live.rows[offer.card.id]
    expires_at = now + lifetime(campaign, offer.billing_event)
    return MatchOutcome(
        placement=Placed(id=uid, conversion_resource=campaign.rec_resource_url),
        campaign=campaign,
        token=tokens.encode(uid, expires_at, campaign.id),
    )


def _match_in_database(
    facilitator_id: uuid.UUID,
    settlement: engine.Settlement,
    settled_amount: int,
    tx_hash: str,
    now: dt.datetime,
    rng: random.Random | None,
) -> MatchOutcome:
    live = catalog.current(now)
    offers = live.rank(settlement, now, rng or _rng)
    with transaction.atomic():
        request = MatchRequest.objects.create(
            uid=ids.time_ordered_uuid(now),
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
                return MatchOutcome(
                    placement=Placed(
                        id=placement.id, conversion_resource=placement.conversion_resource
                    ),
                    campaign=campaign,
                    token=tokens.encode(placement.id, placement.expires_at, campaign.id),
                )
    return NO_MATCH


# --- Holds: charging and releasing ---------------------------------------------------------


def claim_tx(
    *, network: str, tx_hash: str, role: str, placement_id: uuid.UUID, now: dt.datetime
) -> bool:
    """Claim a transaction hash for one role of one placement. True if the claim is (or
    already was) exactly this one; False if the hash proves something else already."""
    TxClaim.objects.bulk_create(
        [
            TxClaim(
                network=network,
                tx_hash=tx_hash,
                role=role,
                placement_id=placement_id,
                claimed_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    return TxClaim.objects.filter(
        network=network, tx_hash=tx_hash, role=role, placement_id=placement_id
    ).exists()


@dataclass(frozen=True)
class HoldCharge:
    """What charging a placement did: billed out of its hold, and what could not be."""

    billed_millis: int
    unbilled_millis: int
    day: dt.date


def charge_from_hold(*, placement_id: uuid.UUID, target_millis: int) -> HoldCharge:
    """Raise a placement's total charge to `target_millis`, paid only out of its hold.

    Must run inside the caller's transaction (the ledger row is written with it). The
    placement row is locked first, then its campaign's, always in that order. A charge
    never takes new budget: what its hold cannot cover is reported as unbilled, so the
    budget invariant holds whatever arrives late.
    """
    placement = (
        Placement.objects.select_for_update()
        .only("id", "campaign_id", "hold_millis", "billed_millis", "hold_day")
        .get(pk=placement_id)
    )
    delta = max(0, target_millis - placement.billed_millis)
    billed = min(delta, placement.hold_millis)
    if billed:
        Placement.objects.filter(pk=placement_id).update(
            hold_millis=F("hold_millis") - billed, billed_millis=F("billed_millis") + billed
        )
        Campaign.objects.filter(pk=placement.campaign_id).update(
            held_millis=F("held_millis") - billed,
            spent_millis=F("spent_millis") + billed,
            day_held_millis=on_day(placement.hold_day, "day_held_millis", -billed),
            day_spent_millis=on_day(placement.hold_day, "day_spent_millis", billed),
        )
    return HoldCharge(billed_millis=billed, unbilled_millis=delta - billed, day=placement.hold_day)


def mark_exhausted_if_spent(*, campaign_id: uuid.UUID, now: dt.datetime) -> None:
    campaign = (
        Campaign.objects.filter(pk=campaign_id).only("bid_strategy", "max_bid_amount").first()
    )
    if campaign is not None:
        hold = engine.hold_millis(campaign.bid_strategy, campaign.max_bid_amount)
        _mark_exhausted_if_spent(campaign_id, hold, now)


def release_hold(*, placement_id: uuid.UUID) -> int:
    """Give what is left of a placement's hold back to its campaign, once. Returns it."""
    with transaction.atomic():
        placement = (
            Placement.objects.select_for_update()
            .only("id", "campaign_id", "hold_millis", "hold_day", "state")
            .filter(pk=placement_id, hold_millis__gt=0)
            .first()
        )
        if placement is None:
            return 0
        hold = placement.hold_millis
        Placement.objects.filter(pk=placement_id).update(
            hold_millis=0,
            state=Case(
                When(state__in=Placement.OPEN_STATES, then=Value(Placement.State.EXPIRED)),
                default=F("state"),
            ),
        )
        Campaign.objects.filter(pk=placement.campaign_id).update(
            held_millis=F("held_millis") - hold,
            # Today's counters only speak of today's placements; an older hold leaves them be.
            day_held_millis=on_day(placement.hold_day, "day_held_millis", -hold),
        )
        return hold


def attribution_watermark(now: dt.datetime) -> dt.datetime:
    """Every settlement observed before this instant has been checked for conversions."""
    oldest = (
        MatchRequest.objects.filter(attributed=False)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    # A match still committing is not yet visible; a few seconds of margin cover it.
    settled = now - dt.timedelta(seconds=5)
    if budget.enabled():
        # Requests still waiting in the journal have not been checked either; if Redis
        # cannot say, nothing waiting on attribution is released yet.
        try:
            pending = journal.oldest_pending()
        except budget.redis.RedisError:
            return dt.datetime.min.replace(tzinfo=dt.UTC)
        if pending is not None:
            settled = min(settled, pending - dt.timedelta(seconds=5))
    return min(oldest, settled) if oldest is not None else settled


def releasable_placements(*, now: dt.datetime, limit: int = 1000) -> list[uuid.UUID]:
    """Placements whose holds can no longer bill: past release_at, and for those that wait
    on conversions, only once every settlement up to their deadline has been attributed."""
    watermark = attribution_watermark(now)
    return list(
        Placement.objects.filter(hold_millis__gt=0, release_at__lte=now)
        .filter(
            Q(bid_strategy__in=[engine.STRATEGY_CPM, engine.STRATEGY_CPC])
            | Q(attribution_deadline__lt=watermark)
        )
        .values_list("id", flat=True)[:limit]
    )


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


def record_lost_placement(
    *, placement_id: uuid.UUID, campaign_id: uuid.UUID | None, source: str, now: dt.datetime
) -> None:
    """A follow-up named a placement we signed that PostgreSQL never received (lost with a
    Redis that died before the journal was drained, or its record set aside): the network's
    loss, recorded once per placement and kind, never blamed on the facilitator. Nothing
    is owed: the grant that paid for its hold was settled at what reached PostgreSQL, and
    the rest went back to the campaign (campaigns.grants)."""
    LostPlacement.objects.bulk_create(
        [
            LostPlacement(
                placement_id=placement_id, campaign_id=campaign_id, source=source, seen_at=now
            )
        ],
        ignore_conflicts=True,
    )
    logger.warning(
        "placement %s was lost (%s): counted as the network's loss", placement_id, source
    )


def record_click(*, placement_id: uuid.UUID, now: dt.datetime) -> bool:
    """The placement's first click while it is open: one conditional UPDATE."""
    return bool(
        Placement.objects.filter(
            pk=placement_id,
            clicked_at__isnull=True,
            expires_at__gt=now,
            state__in=Placement.OPEN_STATES,
        ).update(clicked_at=now)
    )


# --- Explain: a dry run of matching for operators --------------------------------------------


def explain_match(
    *,
    settlement: engine.Settlement,
    now: dt.datetime | None = None,
    campaign_ids: list[uuid.UUID] | None = None,
) -> dict[str, Any]:
    """Which campaigns matching would consider for this settlement, why each would or would
    not answer, and with what score. Reads only: nothing is held, placed or recorded."""
    now = now or clock.now()
    live = catalog.current(now)
    cards = {card.id: card for card in live.index.candidates(settlement.resource_url)}
    url_matched = set(cards)
    missing = []
    for campaign_id in campaign_ids or ():
        card = live.index.cards.get(str(campaign_id))
        if card is not None:
            cards.setdefault(card.id, card)
        else:
            missing.append(campaign_id)
    # Named campaigns that are not live (paused, draft, ended...) are explained too.
    not_live = set()
    for row in Campaign.objects.filter(pk__in=missing).select_related("advertiser"):
        cards.setdefault(str(row.id), selectors.card_for(row))
        not_live.add(str(row.id))
    day = clock.utc_day(now)
    rows = {
        str(row.id): row
        for row in Campaign.objects.filter(pk__in=list(cards)).select_related("advertiser")
    }
    caps = _frequency_counts(list(cards), settlement.payer, day)
    ranked = {
        o.card.id: n
        for n, o in enumerate(engine.rank(cards.values(), settlement, now, random.Random(0)))
    }
    entries, winner = [], None
    for card in sorted(cards.values(), key=lambda c: ranked.get(c.id, len(ranked))):
        row = rows.get(card.id)
        offer = engine.offer_for(card, settlement.transport)
        if card.id in not_live:
            reason = "not_active"
        elif card.id not in url_matched:
            reason = engine.EXCLUDED_URL_PATTERN
        else:
            reason = engine.exclusion(card, settlement, now)
        budget = _budget_view(row, offer, now, day) if row is not None else None
        if reason is None:
            reason = _budget_reason(row, budget, caps.get(card.id, 0), card.frequency_cap)
        if reason is None and winner is None:
            winner = card.id
        entries.append(
            {
                "campaignId": card.id,
                "name": row.name if row else "",
                "bidStrategy": card.bid_strategy,
                "excluded": reason,
                "billingEvent": offer.billing_event,
                "priceMillis": offer.price_millis,
                "expectedRate": round(offer.score / offer.price_millis, 6)
                if offer.price_millis
                else 0,
                "score": round(offer.score, 3),
                "budget": budget,
                "frequency": {"cap": card.frequency_cap, "usedToday": caps.get(card.id, 0)},
            }
        )
    return {
        "explain": True,
        "matched": winner is not None,
        "winner": winner,
        "candidates": entries,
        "notConsidered": len(live.index) - len(url_matched),
    }


def _frequency_counts(campaign_ids: list[str], payer: str, day: dt.date) -> dict[str, int]:
    """Today's placements of each campaign to this payer: Redis's live counts when matching
    counts there, else (or if Redis cannot say) PostgreSQL's."""
    if budget.enabled():
        try:
            store = budget.store()
            counts = store.redis.mget(
                [store.key(f"f:{day.isoformat()}:{cid}:{payer}") for cid in campaign_ids]
            )
            return {cid: int(n) for cid, n in zip(campaign_ids, counts, strict=True) if n}
        except budget.redis.RedisError:
            logger.warning("budget store unreachable: explaining with PostgreSQL's counts")
    return {
        str(campaign_id): count
        for campaign_id, count in PayerDailyCount.objects.filter(
            campaign_id__in=campaign_ids, payer=payer, day=day
        ).values_list("campaign_id", "count")
    }


def _budget_view(row: Campaign, offer: engine.Offer, now: dt.datetime, day: dt.date) -> dict:
    hold = engine.hold_millis(row.bid_strategy, row.max_bid_amount)
    today_committed = (row.day_spent_millis + row.day_held_millis) if row.day == day else 0
    pace = paced_limit(row, now)
    return {
        "holdMillis": hold,
        "remainingTotalMillis": row.budget_total * MILLIS_PER_ATOMIC
        - row.spent_millis
        - row.held_millis,
        "remainingTodayMillis": row.budget_daily * MILLIS_PER_ATOMIC - today_committed,
        "pacedLimitMillis": pace,
        "committedTodayMillis": today_committed,
    }


def _budget_reason(row: Campaign | None, budget: dict | None, used: int, cap: int) -> str | None:
    if row is None or row.status != Campaign.Status.ACTIVE:
        return "not_active"
    if used >= cap:
        return "frequency_capped"
    hold = budget["holdMillis"]
    if budget["remainingTotalMillis"] < hold:
        return "budget_total_committed"
    if budget["remainingTodayMillis"] < hold:
        return "budget_daily_committed"
    if budget["pacedLimitMillis"] is not None and (
        budget["committedTodayMillis"] + hold > budget["pacedLimitMillis"]
    ):
        return "paced"
    return None
