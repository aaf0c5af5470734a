"""Ingesting settlement events durably, processing them once, and counting beacon impressions.

The API writes each event to the inbox table (unique on network and txHash) and answers;
processing happens in a Celery task per batch, or, where events are not queued as tasks
(the embedded default), in the inbox loop (`process_pending`). Either claims an event with
a lease in one conditional UPDATE, applies its effects and marks it done in one
transaction that only commits if the claim is still its own. A killed worker's claim runs
out and the sweeper dispatches the event again (or the inbox loop takes it); effects are
themselves conditional updates, so they apply at most once.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q

from adnet.core import clock
from adnet.core.digests import canonical_digest
from billing import services as billing
from billing.models import InvalidTraffic
from campaigns import budget, journal, tokens
from campaigns import services as campaign_services
from campaigns.models import LostPlacement, Placement
from campaigns.selectors import campaign_resource, placement_with_campaign
from events.models import EventConflict, SettlementEvent

logger = logging.getLogger(__name__)

# A dispatched event still pending after EVENT_REDISPATCH_SECONDS is dispatched again,
# backing off each time so a long backlog does not fill the queue with copies.
REDISPATCH_MAX = dt.timedelta(minutes=15)
DISPATCH_CHUNK = 100

# Impressions of http placements come from the beacon; of mcp/a2a from the settlement event.
BEACON_TRANSPORTS = ("http",)
EVENT_IMPRESSION_TRANSPORTS = ("mcp", "a2a")

# Reasons an event or beacon is recorded as invalid traffic.
FORGED_TOKEN = "forged_token"  # noqa: S105 - a reason code, not a secret
UNKNOWN_PLACEMENT = "unknown_placement"
OTHER_FACILITATOR = "other_facilitator"
EXPIRED_PLACEMENT = "expired_placement"
CAMPAIGN_MISMATCH = "campaign_mismatch"
PAYER_MISMATCH = "payer_mismatch"
NETWORK_MISMATCH = "network_mismatch"
SELF_DEALING = "payer_is_advertiser"
DUPLICATE_DELIVERY = "duplicate_delivery"
DUPLICATE_IMPRESSION = "duplicate_impression"
WRONG_TRANSPORT = "beacon_for_non_http_placement"
DUPLICATE_CLICK = "duplicate_click"
# Not invalid traffic: a placement we signed that PostgreSQL never received is the network's
# own loss (campaigns.models.LostPlacement), never held against the facilitator.
LOST_PLACEMENT = LostPlacement.REASON


# --- Ingest --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventInput:
    """One validated, normalised settlement event as the facilitator reported it."""

    tx_hash: str
    network: str
    resource_url: str
    resource_description: str
    resource_mime_type: str
    payer: str
    settled_amount: int
    campaign_ref: str
    impression_token: str
    occurred_at: dt.datetime

    def canonical(self) -> dict:
        return {
            "txHash": self.tx_hash,
            "network": self.network,
            "resource": {
                "url": self.resource_url,
                "description": self.resource_description,
                "mimeType": self.resource_mime_type,
            },
            "payer": self.payer,
            "settledAmount": str(self.settled_amount),
            "campaignId": self.campaign_ref,
            "impressionToken": self.impression_token,
            "timestamp": clock.isoformat(self.occurred_at),
        }

    def digest(self) -> str:
        return canonical_digest(self.canonical())


def ingest_events(
    *, facilitator_id: uuid.UUID, items: Sequence[EventInput], now: dt.datetime | None = None
) -> list[uuid.UUID]:
    """Record events durably and return their eventIds, in order.

    A replay (same network, txHash and body) returns the original eventId and changes
    nothing. The same chain fact claimed with another body, or by another facilitator, is
    recorded as a conflict and not applied; the answer still names the original event so
    the response teaches nothing.
    """
    now = now or clock.now()
    digests = [item.digest() for item in items]
    fresh: dict[tuple[str, str], SettlementEvent] = {}
    for item, digest in zip(items, digests, strict=True):
        fresh.setdefault(
            (item.network, item.tx_hash),
            SettlementEvent(
                facilitator_id=facilitator_id,
                network=item.network,
                tx_hash=item.tx_hash,
                payer=item.payer,
                resource_url=item.resource_url,
                resource_description=item.resource_description[:1000],
                resource_mime_type=item.resource_mime_type,
                settled_amount=item.settled_amount,
                campaign_ref=item.campaign_ref,
                impression_token=item.impression_token,
                occurred_at=item.occurred_at,
                received_at=now,
                body_digest=digest,
                dispatched_at=now,
                dispatches=1,
            ),
        )
    with transaction.atomic():
        SettlementEvent.objects.bulk_create(list(fresh.values()), ignore_conflicts=True)
        stored = {
            (row.network, row.tx_hash): row
            for row in SettlementEvent.objects.filter(tx_hash__in={key[1] for key in fresh}).only(
                "id", "network", "tx_hash", "body_digest", "facilitator_id"
            )
            if (row.network, row.tx_hash) in fresh
        }
        inserted = [row.id for key, row in stored.items() if row.id == fresh[key].id]
        conflicts = []
        for item, digest in zip(items, digests, strict=True):
            row = stored[(item.network, item.tx_hash)]
            if row.body_digest != digest or row.facilitator_id != facilitator_id:
                conflicts.append(
                    EventConflict(
                        event_id=row.id,
                        facilitator_id=facilitator_id,
                        body_digest=digest,
                        body=item.canonical(),
                        received_at=now,
                    )
                )
        if conflicts:
            EventConflict.objects.bulk_create(conflicts, ignore_conflicts=True)
            logger.warning("settlement event conflicts: %d", len(conflicts))
        if inserted:
            transaction.on_commit(lambda: dispatch(inserted))
    return [stored[(item.network, item.tx_hash)].id for item in items]


def dispatch(event_ids: Sequence[uuid.UUID]) -> bool:
    """Queue processing; never raise. Events that cannot be queued now stay in the inbox
    and the sweeper queues them once the broker answers again. Without a broker that can
    carry a task per event (EVENTS_VIA_BROKER off: the embedded default's filesystem
    broker), nothing is queued: the inbox loop takes them (`process_pending`)."""
    from events.tasks import process_events

    if not settings.EVENTS_VIA_BROKER:
        return True
    try:
        for start in range(0, len(event_ids), DISPATCH_CHUNK):
            chunk = [str(event_id) for event_id in event_ids[start : start + DISPATCH_CHUNK]]
            process_events.apply_async(args=[chunk], retry=False)
    except Exception:  # noqa: BLE001 - the broker being down must not fail the request
        logger.warning("broker unavailable; %d events left for the sweeper", len(event_ids))
        return False
    return True


def sweep_inbox(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Dispatch events that are pending too long or whose lease ran out; bury the hopeless."""
    now = now or clock.now()
    redispatch_after = dt.timedelta(seconds=settings.EVENT_REDISPATCH_SECONDS)
    SettlementEvent.objects.filter(
        Q(status=SettlementEvent.Status.PENDING)
        | Q(status=SettlementEvent.Status.PROCESSING, lease_until__lt=now),
        attempts__gte=settings.EVENT_MAX_ATTEMPTS,
    ).update(status=SettlementEvent.Status.DEAD, claim=None, lease_until=None)
    due = []
    candidates = SettlementEvent.objects.filter(
        Q(status=SettlementEvent.Status.PENDING, dispatched_at__lt=now - redispatch_after)
        | Q(status=SettlementEvent.Status.PROCESSING, lease_until__lt=now)
    ).values_list("id", "dispatches", "dispatched_at", "status")[:limit]
    for event_id, dispatches, dispatched_at, status in candidates:
        backoff = min(redispatch_after * (2 ** min(dispatches - 1, 10)), REDISPATCH_MAX)
        if status == SettlementEvent.Status.PROCESSING or dispatched_at <= now - backoff:
            due.append(event_id)
    if not due:
        return 0
    if not dispatch(due):
        return 0
    SettlementEvent.objects.filter(pk__in=due).update(
        dispatched_at=now, dispatches=F("dispatches") + 1
    )
    return len(due)


# --- Processing ----------------------------------------------------------------------------


def process_pending(*, limit: int = 500) -> int:
    """Process the events waiting in the inbox, oldest first: the inbox loop (adnet.loops)
    where events are not queued as tasks. Returns how many this call applied."""
    waiting = SettlementEvent.objects.filter(_claimable(clock.now())).order_by("received_at")
    return sum(
        process_event(event_id=event_id)
        for event_id in list(waiting.values_list("id", flat=True)[:limit])
    )


class _ClaimLost(Exception):
    """Another worker took over this event: roll back and leave it to them."""


def _claimable(now: dt.datetime) -> Q:
    """Events a worker may claim now: pending, or processing with an expired lease, and
    attempts left."""
    return (
        Q(status=SettlementEvent.Status.PENDING)
        | Q(status=SettlementEvent.Status.PROCESSING, lease_until__lt=now)
    ) & Q(attempts__lt=settings.EVENT_MAX_ATTEMPTS)


def _claim(event_id: uuid.UUID, now: dt.datetime) -> uuid.UUID | None:
    claim = uuid.uuid4()
    claimed = SettlementEvent.objects.filter(_claimable(now), pk=event_id).update(
        status=SettlementEvent.Status.PROCESSING,
        claim=claim,
        lease_until=now + dt.timedelta(seconds=settings.EVENT_LEASE_SECONDS),
        attempts=F("attempts") + 1,
    )
    return claim if claimed else None


def event_verdict(
    event: SettlementEvent, placement: Placement | None, now: dt.datetime
) -> str | None:
    """The ordered chain of validity checks for an event naming a placement.

    Returns the first reason the event must not count, or None when it is valid.
    """
    if placement is None:
        return UNKNOWN_PLACEMENT
    if placement.facilitator_id != event.facilitator_id:
        return OTHER_FACILITATOR
    if placement.state == Placement.State.EXPIRED or placement.expires_at <= event.received_at:
        return EXPIRED_PLACEMENT
    if event.campaign_ref and event.campaign_ref != str(placement.campaign_id):
        return CAMPAIGN_MISMATCH
    if event.network != placement.network:
        return NETWORK_MISMATCH
    if event.payer != placement.payer:
        return PAYER_MISMATCH
    if event.payer == placement.campaign.advertiser.wallet_address:
        return SELF_DEALING
    return None


def _invalid(event: SettlementEvent, reason: str, placement: Placement | None, now: dt.datetime):
    event.status = SettlementEvent.Status.INVALID
    event.invalid_reason = reason
    billing.flag(
        source=InvalidTraffic.Source.EVENT,
        reason=reason,
        now=now,
        placement=placement,
        facilitator_id=event.facilitator_id,
        source_ref=str(event.id),
        detail={"txHash": event.tx_hash, "network": event.network},
    )


def _apply(event: SettlementEvent, now: dt.datetime) -> None:
    """The effects of one event, inside the caller's transaction."""
    if not event.impression_token:
        # A settlement with no placement named: kept as an observation, nothing to verify.
        event.status = SettlementEvent.Status.PROCESSED
        return
    token = tokens.decode(event.impression_token)
    if token is None:
        _invalid(event, FORGED_TOKEN, None, now)
        return
    placement = placement_with_campaign(token.placement_id)
    if placement is None:
        _lost(token, LostPlacement.Source.EVENT, now)
        event.status = SettlementEvent.Status.PROCESSED
        return
    event.placement = placement
    reason = event_verdict(event, placement, now)
    if reason is None and not campaign_services.record_delivery(placement_id=placement.id, now=now):
        reason = DUPLICATE_DELIVERY
    if reason is not None:
        _invalid(event, reason, placement, now)
        return
    billing.record_settlement_hash(
        placement_id=placement.id, network=event.network, tx_hash=event.tx_hash, now=now
    )
    if placement.transport in EVENT_IMPRESSION_TRANSPORTS and campaign_services.verify_impression(
        placement_id=placement.id, now=now, transports=EVENT_IMPRESSION_TRANSPORTS
    ):
        billing.on_impression(
            placement_id=placement.id, evidence={"eventId": str(event.id)}, now=now
        )
    event.status = SettlementEvent.Status.PROCESSED


def _await_placement_of(event_id: uuid.UUID) -> None:
    """The placement an event names may still be in the match journal: write it first.
    If the journal cannot be read, this raises and the event is tried again later."""
    token = (
        SettlementEvent.objects.filter(pk=event_id)
        .values_list("impression_token", flat=True)
        .first()
    )
    decoded = tokens.decode(token) if token else None
    if decoded is not None:
        journal.await_placement(decoded.placement_id)


def _await_quietly(decoded) -> None:
    """The same for a beacon or a click, which answer at once whatever happens."""
    if decoded is None:
        return
    try:
        journal.await_placement(decoded.placement_id)
    except budget.redis.RedisError:
        logger.warning(
            "match journal unreachable: placement %s judged on what is written",
            decoded.placement_id,
        )


def process_event(*, event_id: uuid.UUID, now: dt.datetime | None = None) -> bool:
    """Process one event at most once in effect. True if this call applied it."""
    now = now or clock.now()
    claim = _claim(event_id, now)
    if claim is None:
        return False
    try:
        _await_placement_of(event_id)
        with transaction.atomic():
            event = SettlementEvent.objects.get(pk=event_id)
            _apply(event, now)
            done = SettlementEvent.objects.filter(
                pk=event_id, claim=claim, status=SettlementEvent.Status.PROCESSING
            ).update(
                status=event.status,
                invalid_reason=event.invalid_reason,
                placement=event.placement,
                processed_at=now,
                claim=None,
                lease_until=None,
                last_error="",
            )
            if not done:
                raise _ClaimLost()
    except _ClaimLost:
        return False
    except Exception as exc:
        logger.exception("settlement event %s failed", event_id)
        _release_failed(event_id, claim, exc)
        if isinstance(exc, DatabaseError):
            raise
        return False
    return True


def _release_failed(event_id: uuid.UUID, claim: uuid.UUID, exc: Exception) -> None:
    """Give a failed claim back, or bury the event once it has failed too often."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    try:
        base = SettlementEvent.objects.filter(
            pk=event_id, claim=claim, status=SettlementEvent.Status.PROCESSING
        )
        base.filter(attempts__gte=settings.EVENT_MAX_ATTEMPTS).update(
            status=SettlementEvent.Status.DEAD, last_error=error, claim=None, lease_until=None
        )
        base.filter(attempts__lt=settings.EVENT_MAX_ATTEMPTS).update(
            status=SettlementEvent.Status.PENDING, last_error=error, claim=None, lease_until=None
        )
    except DatabaseError:
        logger.exception("could not release event %s; its lease will run out", event_id)


# --- The impression beacon -----------------------------------------------------------------


def record_beacon(*, token: str, now: dt.datetime | None = None) -> str | None:
    """Count the impression a beacon names, and bill it; or record why not.

    Returns the invalid reason, or None when the impression counted.
    """
    now = now or clock.now()
    decoded = tokens.decode(token)
    if decoded is not None and not decoded.expired(now):
        _await_quietly(decoded)
    with transaction.atomic():
        if decoded is None:
            reason, placement_id = FORGED_TOKEN, None
        elif decoded.expired(now):
            reason, placement_id = EXPIRED_PLACEMENT, decoded.placement_id
        elif campaign_services.verify_impression(
            placement_id=decoded.placement_id, now=now, transports=BEACON_TRANSPORTS
        ):
            billing.on_impression(
                placement_id=decoded.placement_id, evidence={"source": "beacon"}, now=now
            )
            return None
        else:
            placement_id = decoded.placement_id
            reason = _beacon_refusal(placement_id, now)
            if reason == LOST_PLACEMENT:
                _lost(decoded, LostPlacement.Source.BEACON, now)
                return reason
        placement = (
            Placement.objects.filter(pk=placement_id)
            .only("id", "campaign_id", "facilitator_id")
            .first()
            if placement_id
            else None
        )
        billing.flag(
            source=InvalidTraffic.Source.BEACON,
            reason=reason,
            now=now,
            placement=placement,
            facilitator_id=placement.facilitator_id if placement else None,
            detail={"placementId": str(placement_id)} if placement_id and not placement else {},
        )
    return reason


def record_click(*, token: str, now: dt.datetime | None = None) -> str | None:
    """Count a placement's click, and bill it under cpc. Returns where to send the client
    (the recommended resource), or None for a token that names no placement of ours."""
    now = now or clock.now()
    decoded = tokens.decode(token)
    _await_quietly(decoded)
    placement = placement_with_campaign(decoded.placement_id) if decoded is not None else None
    with transaction.atomic():
        if decoded is None:
            billing.flag(source=InvalidTraffic.Source.CLICK, reason=FORGED_TOKEN, now=now)
            return None
        if placement is None:
            # Ours, but lost: the agent still reaches the advertiser's resource.
            _lost(decoded, LostPlacement.Source.CLICK, now)
            return _campaign_resource(decoded)
        if campaign_services.record_click(placement_id=placement.id, now=now):
            billing.on_click(placement_id=placement.id, evidence={"source": "click"}, now=now)
        else:
            reason = DUPLICATE_CLICK if placement.clicked_at else EXPIRED_PLACEMENT
            billing.flag(
                source=InvalidTraffic.Source.CLICK,
                reason=reason,
                now=now,
                placement=placement,
                facilitator_id=placement.facilitator_id,
            )
    return placement.conversion_resource


def _lost(decoded: tokens.PlacementToken, source: str, now: dt.datetime) -> None:
    campaign_services.record_lost_placement(
        placement_id=decoded.placement_id,
        campaign_id=decoded.campaign_id,
        source=source,
        now=now,
    )


def _campaign_resource(decoded: tokens.PlacementToken) -> str | None:
    """Where a lost placement's click leads: its campaign's resource, if the token names it."""
    if decoded.campaign_id is None:
        return None
    return campaign_resource(decoded.campaign_id)


def _beacon_refusal(placement_id: uuid.UUID, now: dt.datetime) -> str:
    placement = (
        Placement.objects.filter(pk=placement_id)
        .only("state", "impression_at", "expires_at", "transport")
        .first()
    )
    if placement is None:
        return LOST_PLACEMENT  # the token is ours, so the placement was
    if placement.impression_at is not None:
        return DUPLICATE_IMPRESSION
    if placement.transport not in BEACON_TRANSPORTS:
        return WRONG_TRANSPORT
    return EXPIRED_PLACEMENT


def click_destination(token: str) -> str | None:
    """Where a click link leads, without counting anything (used when the database fails
    part-way, so this may also fail)."""
    decoded = tokens.decode(token)
    if decoded is None:
        return None
    try:
        placement = (
            Placement.objects.filter(pk=decoded.placement_id).only("conversion_resource").first()
        )
        if placement is None:
            return _campaign_resource(decoded)
    except DatabaseError:
        return None
    return placement.conversion_resource
