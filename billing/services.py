"""Conversions and charges: attribution from observed settlements, conversion reports,
the ledger, hold releases and reconciliation.

Every charge is taken out of the placement's hold (campaigns.services.charge_from_hold)
in the same transaction as its ledger row, so spend is always the ledger's sum and never
exceeds what was held within budget. A placement is billed at most its price: a later,
higher charge only adds the difference.
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum

from adnet.core import clock
from adnet.core.digests import canonical_digest
from billing.errors import ConversionConflict
from billing.models import Charge, Conversion, ConversionReport, InvalidTraffic, Reconciliation
from campaigns import budget, grants, journal, tokens
from campaigns import selectors as campaign_selectors
from campaigns import services as campaign_services
from campaigns.matching import engine
from campaigns.models import Campaign, LostPlacement, MatchRequest, Placement, TxClaim

logger = logging.getLogger(__name__)

BILLS_CONVERSIONS = (engine.STRATEGY_CPA, engine.STRATEGY_HYBRID)

# Invalid-traffic reasons of conversions and clicks.
TX_HASH_REUSED = "tx_hash_reused"
UNKNOWN_PLACEMENT = "unknown_placement"
# Not invalid traffic: the report names a placement we signed that PostgreSQL never received
# (campaigns.models.LostPlacement), the network's own loss.
LOST_PLACEMENT = LostPlacement.REASON
OTHER_FACILITATOR = "other_facilitator"
PAYER_MISMATCH = "payer_mismatch"
NETWORK_MISMATCH = "network_mismatch"
NOT_CONVERSION_RESOURCE = "not_conversion_resource"
BEFORE_PLACEMENT = "before_placement"
OUTSIDE_WINDOW = "outside_window"
SELF_DEALING = "payer_is_advertiser"
ALREADY_CONVERTED = "already_converted"
ORIGINAL_MISMATCH = "original_tx_hash_mismatch"
NO_EVIDENCE = "no_evidence"
HOLD_RELEASED = "hold_released"


def flag(
    *,
    source: str,
    reason: str,
    now: dt.datetime,
    placement: Placement | None = None,
    facilitator_id: uuid.UUID | None = None,
    source_ref: str = "",
    detail: dict | None = None,
) -> None:
    """Record invalid traffic (once per source row)."""
    InvalidTraffic.objects.bulk_create(
        [
            InvalidTraffic(
                source=source,
                reason=reason,
                occurred_at=now,
                placement=placement,
                campaign_id=placement.campaign_id if placement else None,
                facilitator_id=facilitator_id,
                source_ref=source_ref,
                detail=detail or {},
            )
        ],
        ignore_conflicts=True,
    )


# --- Charges -------------------------------------------------------------------------------


def impression_price(placement: Placement) -> int:
    """What a verified impression bills, in millis: cpm, and the cpm part of hybrid on http."""
    if placement.bid_strategy == engine.STRATEGY_CPM:
        return placement.price_millis
    if placement.bid_strategy == engine.STRATEGY_HYBRID and placement.transport == "http":
        return placement.price_millis // 1000  # the hold is the cpa price; cpm is a 1000th
    return 0


def bill(
    *, placement_id: uuid.UUID, kind: str, target_millis: int, evidence: dict, now: dt.datetime
) -> Charge | None:
    """Charge a placement for one billable event, once. Joins the caller's transaction."""
    if target_millis <= 0:
        return None
    with transaction.atomic():
        placement = (
            Placement.objects.select_for_update()
            .only("id", "campaign_id", "facilitator_id", "bid_strategy")
            .get(pk=placement_id)
        )
        if Charge.objects.filter(placement_id=placement_id, kind=kind).exists():
            return None
        result = campaign_services.charge_from_hold(
            placement_id=placement_id, target_millis=target_millis
        )
        charge = Charge.objects.create(
            placement_id=placement_id,
            campaign_id=placement.campaign_id,
            facilitator_id=placement.facilitator_id,
            kind=kind,
            bid_strategy=placement.bid_strategy,
            amount_millis=result.billed_millis,
            unbilled_millis=result.unbilled_millis,
            unbilled_reason=HOLD_RELEASED if result.unbilled_millis else "",
            day=result.day,
            evidence=evidence,
            created_at=now,
        )
    campaign_services.mark_exhausted_if_spent(campaign_id=placement.campaign_id, now=now)
    return charge


def on_impression(*, placement_id: uuid.UUID, evidence: dict, now: dt.datetime) -> Charge | None:
    placement = Placement.objects.get(pk=placement_id)
    return bill(
        placement_id=placement_id,
        kind=Charge.Kind.IMPRESSION,
        target_millis=impression_price(placement),
        evidence=evidence,
        now=now,
    )


def on_click(*, placement_id: uuid.UUID, evidence: dict, now: dt.datetime) -> Charge | None:
    placement = Placement.objects.get(pk=placement_id)
    if placement.bid_strategy != engine.STRATEGY_CPC:
        return None
    return bill(
        placement_id=placement_id,
        kind=Charge.Kind.CLICK,
        target_millis=placement.price_millis,
        evidence=evidence,
        now=now,
    )


def _bill_conversion_if_proven(conversion: Conversion, now: dt.datetime) -> None:
    """Bill a conversion once both hashes are known, under a strategy that bills them."""
    if conversion.status != Conversion.Status.AWAITING_EVIDENCE:
        return
    if not (conversion.original_tx_hash and conversion.conversion_tx_hash):
        return
    placement = Placement.objects.get(pk=conversion.placement_id)
    charge = bill(
        placement_id=placement.id,
        kind=Charge.Kind.CONVERSION,
        target_millis=placement.price_millis,
        evidence={
            "conversionId": str(conversion.id),
            "network": conversion.network,
            "originalTxHash": conversion.original_tx_hash,
            "conversionTxHash": conversion.conversion_tx_hash,
        },
        now=now,
    )
    unbilled = charge is None or (charge.amount_millis == 0 and charge.unbilled_millis > 0)
    conversion.status = Conversion.Status.UNBILLED if unbilled else Conversion.Status.BILLED
    conversion.unbilled_reason = HOLD_RELEASED if unbilled else ""
    Conversion.objects.filter(pk=conversion.pk).update(
        status=conversion.status, unbilled_reason=conversion.unbilled_reason
    )


def _claim(network: str, tx_hash: str, role: str, placement: Placement, now: dt.datetime) -> bool:
    return campaign_services.claim_tx(
        network=network, tx_hash=tx_hash, role=role, placement_id=placement.id, now=now
    )


# --- Conversions ---------------------------------------------------------------------------


def _new_conversion(
    *,
    placement: Placement,
    source: str,
    converted_at: dt.datetime,
    resource_url: str,
    now: dt.datetime,
    match_request: MatchRequest | None,
    facilitator_id: uuid.UUID | None,
    conversion_tx_hash: str,
    original_tx_hash: str,
) -> Conversion | None:
    """Create the placement's one conversion, claiming its hashes; None if it has one."""
    bills = placement.bid_strategy in BILLS_CONVERSIONS
    try:
        with transaction.atomic():
            conversion = Conversion.objects.create(
                placement=placement,
                campaign_id=placement.campaign_id,
                source=source,
                payer=placement.payer,
                network=placement.network,
                resource_url=resource_url,
                converted_at=converted_at,
                match_request=match_request,
                converting_facilitator_id=facilitator_id,
                status=(
                    Conversion.Status.AWAITING_EVIDENCE if bills else Conversion.Status.NOT_BILLABLE
                ),
                created_at=now,
            )
    except IntegrityError:
        return None
    Placement.objects.filter(pk=placement.pk).update(state=Placement.State.CONVERTED)
    original = placement.original_tx_hash
    if (
        not original
        and original_tx_hash
        and _claim(placement.network, original_tx_hash, TxClaim.Role.ORIGINAL, placement, now)
    ):
        Placement.objects.filter(pk=placement.pk, original_tx_hash="").update(
            original_tx_hash=original_tx_hash
        )
        original = original_tx_hash
    _fill_conversion_hash(conversion, conversion_tx_hash, now, original=original)
    return conversion


def _fill_conversion_hash(
    conversion: Conversion,
    conversion_tx_hash: str,
    now: dt.datetime,
    *,
    original: str | None = None,
) -> None:
    """Set whatever hashes are newly known on a conversion, then bill it if proven."""
    placement = Placement.objects.get(pk=conversion.placement_id)
    changes = {}
    original = original if original is not None else placement.original_tx_hash
    if original and not conversion.original_tx_hash:
        changes["original_tx_hash"] = original
    if conversion_tx_hash and not conversion.conversion_tx_hash:
        if conversion_tx_hash == (original or conversion.original_tx_hash) or not _claim(
            conversion.network, conversion_tx_hash, TxClaim.Role.CONVERSION, placement, now
        ):
            flag(
                source=InvalidTraffic.Source.CONVERSION,
                reason=TX_HASH_REUSED,
                now=now,
                placement=placement,
                detail={"conversionTxHash": conversion_tx_hash},
            )
        else:
            changes["conversion_tx_hash"] = conversion_tx_hash
    if changes:
        Conversion.objects.filter(pk=conversion.pk).update(**changes)
        for name, value in changes.items():
            setattr(conversion, name, value)
    _bill_conversion_if_proven(conversion, now)


def _last_touch(
    *,
    payer: str,
    network: str,
    resource_url: str,
    at: dt.datetime,
    exclude_request_id: int | None = None,
) -> list[Placement]:
    """Eligible placements for a payment, most recent first (last touch wins)."""
    return list(
        _touches(
            payer=payer,
            network=network,
            resource_url=resource_url,
            at=at,
            exclude_request_id=exclude_request_id,
        ).order_by("-matched_at")[:5]
    )


def _touches(
    *,
    payer: str,
    network: str,
    resource_url: str,
    at: dt.datetime,
    exclude_request_id: int | None = None,
):
    """The placements a payment at `at` may convert: still open, matched before it (and
    so after touch_horizon), not converted yet."""
    qs = Placement.objects.filter(
        payer=payer,
        network=network,
        conversion_key=campaign_services.conversion_key(resource_url),
        matched_at__lt=at,
        matched_at__gte=campaign_selectors.touch_horizon(at),
        attribution_deadline__gte=at,
        conversion__isnull=True,
    ).select_related("campaign__advertiser")
    if exclude_request_id is not None:
        qs = qs.exclude(match_request_id=exclude_request_id)
    return qs


def attribute_settlement(*, match_request: MatchRequest, now: dt.datetime) -> Conversion | None:
    """Is this observed settlement the conversion of an earlier placement? Last touch wins."""
    for placement in _last_touch(
        payer=match_request.payer,
        network=match_request.network,
        resource_url=match_request.resource_url,
        at=match_request.received_at,
        exclude_request_id=match_request.id,
    ):
        if placement.payer == placement.campaign.advertiser.wallet_address:
            continue
        conversion = _new_conversion(
            placement=placement,
            source=Conversion.Source.SERVER,
            converted_at=match_request.received_at,
            resource_url=match_request.resource_url,
            now=now,
            match_request=match_request,
            facilitator_id=match_request.facilitator_id,
            conversion_tx_hash=match_request.tx_hash,
            original_tx_hash="",
        )
        if conversion is not None:
            return conversion
    return None


def attribute_pending(*, now: dt.datetime | None = None, limit: int = 2000) -> int:
    """Check observed settlements not yet checked, oldest first. Safe to run concurrently.

    The journal already writes most settlements as checked (campaigns.journal); what it
    leaves, and every settlement written without it, is checked here. Most settlements
    cannot be conversions (no open placement of that payer recommended
    that resource): one query finds those and marks them checked together; the others are
    attributed one by one, each in its own transaction.
    """
    now = now or clock.now()
    journal.catch_up()
    pending = list(
        MatchRequest.objects.filter(attributed=False)
        .order_by("received_at", "id")
        .values_list("id", "payer", "network", "resource_url", "received_at")[:limit]
    )
    if not pending:
        return 0
    # Plain tuples, not model instances: this runs over every settlement the network sees.
    triples = {
        pk: (payer, network, campaign_services.conversion_key(url))
        for pk, payer, network, url, _ in pending
    }
    touched = campaign_selectors.open_touches(set(triples.values()), min(row[4] for row in pending))
    maybe_ids = {pk for pk, triple in triples.items() if triple in touched}
    MatchRequest.objects.filter(
        pk__in=[row[0] for row in pending if row[0] not in maybe_ids], attributed=False
    ).update(attributed=True)
    maybe = (
        MatchRequest.objects.filter(pk__in=maybe_ids)
        .order_by("received_at", "id")
        .only("id", "payer", "network", "resource_url", "received_at", "facilitator_id", "tx_hash")
    )
    converted = 0
    for match_request in maybe:
        with transaction.atomic():
            if not MatchRequest.objects.filter(pk=match_request.pk, attributed=False).update(
                attributed=True
            ):
                continue
            converted += attribute_settlement(match_request=match_request, now=now) is not None
    return converted


def record_settlement_hash(
    *, placement_id: uuid.UUID, network: str, tx_hash: str, now: dt.datetime
) -> None:
    """A settlement event named the transaction of a placement's settlement: that hash is
    the placement's original, and the conversion hash of whatever that settlement converted."""
    placement = Placement.objects.get(pk=placement_id)
    if not placement.original_tx_hash and _claim(
        network, tx_hash, TxClaim.Role.ORIGINAL, placement, now
    ):
        Placement.objects.filter(pk=placement.pk, original_tx_hash="").update(
            original_tx_hash=tx_hash
        )
        conversion = Conversion.objects.filter(placement_id=placement.pk).first()
        if conversion is not None:
            _fill_conversion_hash(conversion, "", now, original=tx_hash)
    MatchRequest.objects.filter(pk=placement.match_request_id, tx_hash="").update(tx_hash=tx_hash)
    for conversion in Conversion.objects.filter(
        match_request_id=placement.match_request_id, conversion_tx_hash=""
    ):
        _fill_conversion_hash(conversion, tx_hash, now)


# --- Conversion reports (POST /v1/conversions) ----------------------------------------------


@dataclass(frozen=True)
class ConversionInput:
    original_tx_hash: str
    conversion_tx_hash: str
    network: str
    payer: str
    resource_url: str
    settled_amount: int
    occurred_at: dt.datetime
    impression_token: str

    def canonical(self) -> dict:
        return {
            "originalTxHash": self.original_tx_hash,
            "conversionTxHash": self.conversion_tx_hash,
            "network": self.network,
            "payer": self.payer,
            "resourceUrl": self.resource_url,
            "settledAmount": str(self.settled_amount),
            "timestamp": clock.isoformat(self.occurred_at),
            "impressionToken": self.impression_token,
        }

    def digest(self) -> str:
        return canonical_digest(self.canonical())


def report_conversion(
    *, facilitator_id: uuid.UUID, report: ConversionInput, now: dt.datetime | None = None
) -> ConversionReport:
    """Record a facilitator's conversion report and apply it if it holds up.

    Deduplicated by (network, conversionTxHash): a replay returns the original report; the
    same hash with another body or from another facilitator is a ConversionConflict.
    """
    now = now or clock.now()
    digest = report.digest()
    _await_report_placement(report)
    try:
        with transaction.atomic():
            row = ConversionReport.objects.create(
                facilitator_id=facilitator_id,
                network=report.network,
                conversion_tx_hash=report.conversion_tx_hash,
                original_tx_hash=report.original_tx_hash,
                body_digest=digest,
                body=report.canonical(),
                received_at=now,
                outcome=ConversionReport.Outcome.INVALID,
            )
            _apply_report(row, report, facilitator_id, now)
            return row
    except IntegrityError:
        existing = ConversionReport.objects.filter(
            network=report.network, conversion_tx_hash=report.conversion_tx_hash
        ).first()
        if existing is None:
            raise
        if existing.body_digest != digest or existing.facilitator_id != facilitator_id:
            raise ConversionConflict() from None
        return existing


def _await_report_placement(report: ConversionInput) -> None:
    """A report may name a placement whose row is still in the match journal."""
    try:
        if report.impression_token:
            decoded = tokens.decode(report.impression_token)
            if decoded is not None:
                journal.await_placement(decoded.placement_id)
        elif not TxClaim.objects.filter(
            network=report.network, tx_hash=report.original_tx_hash, role=TxClaim.Role.ORIGINAL
        ).exists():
            journal.catch_up()
    except budget.redis.RedisError:
        logger.warning("match journal unreachable: the report is judged on what is written")


def _report_placement(report: ConversionInput) -> Placement | None:
    if report.impression_token:
        decoded = tokens.decode(report.impression_token)
        if decoded is None:
            return None
        return (
            Placement.objects.select_related("campaign__advertiser")
            .filter(pk=decoded.placement_id)
            .first()
        )
    claim = TxClaim.objects.filter(
        network=report.network, tx_hash=report.original_tx_hash, role=TxClaim.Role.ORIGINAL
    ).first()
    if claim is None:
        return None
    return Placement.objects.select_related("campaign__advertiser").get(pk=claim.placement_id)


def report_verdict(
    report: ConversionInput,
    placement: Placement | None,
    facilitator_id: uuid.UUID,
    converted_at: dt.datetime,
) -> str | None:
    """The ordered validity checks of a conversion report; the first failure is the reason."""
    if report.original_tx_hash == report.conversion_tx_hash:
        return TX_HASH_REUSED
    if placement is None:
        return UNKNOWN_PLACEMENT
    if placement.facilitator_id != facilitator_id:
        return OTHER_FACILITATOR
    if placement.network != report.network:
        return NETWORK_MISMATCH
    if placement.payer != report.payer:
        return PAYER_MISMATCH
    if placement.payer == placement.campaign.advertiser.wallet_address:
        return SELF_DEALING
    if placement.conversion_key != campaign_services.conversion_key(report.resource_url):
        return NOT_CONVERSION_RESOURCE
    if converted_at <= placement.matched_at:
        return BEFORE_PLACEMENT
    if converted_at > placement.attribution_deadline:
        return OUTSIDE_WINDOW
    if placement.original_tx_hash and placement.original_tx_hash != report.original_tx_hash:
        return ORIGINAL_MISMATCH
    return None


def _apply_report(
    row: ConversionReport, report: ConversionInput, facilitator_id: uuid.UUID, now: dt.datetime
) -> None:
    placement = _report_placement(report)
    lost = (
        tokens.decode(report.impression_token)
        if placement is None and report.impression_token
        else None
    )
    if lost is not None:
        # A placement we signed that PostgreSQL never received: the network's loss.
        campaign_services.record_lost_placement(
            placement_id=lost.placement_id,
            campaign_id=lost.campaign_id,
            source=LostPlacement.Source.CONVERSION,
            now=now,
        )
        ConversionReport.objects.filter(pk=row.pk).update(invalid_reason=LOST_PLACEMENT)
        row.invalid_reason = LOST_PLACEMENT
        return
    # The facilitator's clock is trusted only up to ours.
    converted_at = min(report.occurred_at, now)
    reason = report_verdict(report, placement, facilitator_id, converted_at)
    conversion = None
    if reason is None:
        existing = Conversion.objects.filter(placement_id=placement.id).first()
        if existing is None:
            conversion = _new_conversion(
                placement=placement,
                source=Conversion.Source.REPORT,
                converted_at=converted_at,
                resource_url=report.resource_url,
                now=now,
                match_request=None,
                facilitator_id=facilitator_id,
                conversion_tx_hash=report.conversion_tx_hash,
                original_tx_hash=report.original_tx_hash,
            )
            outcome = ConversionReport.Outcome.ATTRIBUTED
        elif existing.conversion_tx_hash in ("", report.conversion_tx_hash):
            # The network saw this conversion itself; the report adds or confirms evidence.
            conversion = existing
            if (
                not existing.original_tx_hash
                and not placement.original_tx_hash
                and _claim(
                    report.network, report.original_tx_hash, TxClaim.Role.ORIGINAL, placement, now
                )
            ):
                Placement.objects.filter(pk=placement.pk, original_tx_hash="").update(
                    original_tx_hash=report.original_tx_hash
                )
            _fill_conversion_hash(existing, report.conversion_tx_hash, now)
            outcome = ConversionReport.Outcome.CONFIRMED
        else:
            reason = ALREADY_CONVERTED
    if reason is not None:
        flag(
            source=InvalidTraffic.Source.CONVERSION,
            reason=reason,
            now=now,
            placement=placement,
            facilitator_id=facilitator_id,
            source_ref=str(row.id),
            detail={"conversionTxHash": report.conversion_tx_hash},
        )
        ConversionReport.objects.filter(pk=row.pk).update(invalid_reason=reason)
        row.invalid_reason = reason
        return
    ConversionReport.objects.filter(pk=row.pk).update(outcome=outcome, conversion=conversion)
    row.outcome, row.conversion = outcome, conversion


# --- Releasing holds -----------------------------------------------------------------------


def release_expired_holds(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Give back holds that can no longer bill; conversions still unproven become unbilled."""
    now = now or clock.now()
    released = []
    for placement_id in campaign_services.releasable_placements(now=now, limit=limit):
        with transaction.atomic():
            conversion = (
                Conversion.objects.select_for_update()
                .filter(placement_id=placement_id, status=Conversion.Status.AWAITING_EVIDENCE)
                .first()
            )
            if conversion is not None:
                _record_unproven(conversion, now)
            if campaign_services.release_hold(placement_id=placement_id):
                released.append(placement_id)
    if released:
        grants.budget_freed(
            Placement.objects.filter(pk__in=released).values_list("campaign_id", "hold_day"),
            now=now,
        )
    return len(released)


def _record_unproven(conversion: Conversion, now: dt.datetime) -> None:
    placement = Placement.objects.get(pk=conversion.placement_id)
    Conversion.objects.filter(pk=conversion.pk).update(
        status=Conversion.Status.UNBILLED, unbilled_reason=NO_EVIDENCE
    )
    Charge.objects.bulk_create(
        [
            Charge(
                placement_id=placement.id,
                campaign_id=placement.campaign_id,
                facilitator_id=placement.facilitator_id,
                kind=Charge.Kind.CONVERSION,
                bid_strategy=placement.bid_strategy,
                amount_millis=0,
                unbilled_millis=max(0, placement.price_millis - placement.billed_millis),
                unbilled_reason=NO_EVIDENCE,
                day=placement.hold_day,
                evidence={"conversionId": str(conversion.id)},
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )


# --- Reconciliation ------------------------------------------------------------------------


def reconcile(*, now: dt.datetime | None = None) -> Reconciliation:
    """Compare each campaign's fast counters with the ledger and the open holds."""
    now = now or clock.now()
    ledger = dict(
        Charge.objects.values("campaign_id")
        .annotate(total=Sum("amount_millis"))
        .values_list("campaign_id", "total")
    )
    holds = dict(
        Placement.objects.filter(hold_millis__gt=0)
        .values("campaign_id")
        .annotate(total=Sum("hold_millis"))
        .values_list("campaign_id", "total")
    )
    # Budget lent to the Redis store and not yet placed is held too (campaigns.grants).
    for campaign_id, lent in grants.outstanding_by_campaign().items():
        holds[campaign_id] = holds.get(campaign_id, 0) + lent
    mismatches = []
    campaigns = Campaign.objects.only("id", "spent_millis", "held_millis")
    for campaign in campaigns.iterator():
        for counter, value, truth in (
            ("spent_millis", campaign.spent_millis, ledger.get(campaign.id, 0)),
            ("held_millis", campaign.held_millis, holds.get(campaign.id, 0)),
        ):
            if value != truth:
                mismatches.append(
                    {
                        "campaignId": str(campaign.id),
                        "counter": counter,
                        "counter_value": value,
                        "expected": truth,
                    }
                )
    placement_billed = dict(
        Charge.objects.values("placement_id")
        .annotate(total=Sum("amount_millis"))
        .values_list("placement_id", "total")
    )
    for placement_id, billed in (
        Placement.objects.filter(billed_millis__gt=0).values_list("id", "billed_millis").iterator()
    ):
        if placement_billed.get(placement_id, 0) != billed:
            mismatches.append(
                {
                    "placementId": str(placement_id),
                    "counter": "billed_millis",
                    "counter_value": billed,
                    "expected": placement_billed.get(placement_id, 0),
                }
            )
    if mismatches:
        logger.error("reconciliation found %d mismatches", len(mismatches))
    return Reconciliation.objects.create(
        ran_at=now, campaigns_checked=campaigns.count(), mismatches=mismatches
    )
