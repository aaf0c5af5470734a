"""A placement's terms, from its campaign: how long it may bill, when its hold goes back,
which later payment converts it, and how a hold or charge moves the day's counters."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db.models import BigIntegerField, Case, F, When

from campaigns.matching import engine, patterns
from campaigns.models import Campaign


def conversion_key(url: str) -> str:
    """Short digest of a resource's key: what a later payment must match to convert."""
    return hashlib.sha256(patterns.resource_key(url).encode()).hexdigest()[:32]


def waits_for_evidence(campaign: Campaign, billing_event: str) -> bool:
    """Conversion-billed placements (and hybrid ones, whose bill a conversion may raise)
    keep their hold until a conversion's transaction hashes can no longer arrive."""
    return billing_event == engine.EVENT_CONVERSION or (
        campaign.bid_strategy == engine.STRATEGY_HYBRID
    )


def release_at(waits: bool, expires_at, attribution_deadline, *, micros: bool = False):
    """When an unbilled hold goes back (see waits_for_evidence): datetimes, or with `micros`
    microseconds since the epoch (the journal's batches)."""
    if waits:
        seconds = settings.EVIDENCE_GRACE_SECONDS
        grace = seconds * 1_000_000 if micros else dt.timedelta(seconds=seconds)
        return max(expires_at, attribution_deadline + grace)
    return expires_at


def lifetime(campaign: Campaign, billing_event: str) -> dt.timedelta:
    """How long a placement may still bill: its beacon/click life, or its attribution window."""
    seconds = {
        engine.EVENT_IMPRESSION: settings.IMPRESSION_TTL_SECONDS,
        engine.EVENT_CLICK: settings.CLICK_TTL_SECONDS,
    }.get(billing_event, 0)
    if waits_for_evidence(campaign, billing_event):
        seconds = max(seconds, campaign.attribution_window_seconds)
    return dt.timedelta(seconds=seconds)


def on_day(day: dt.date, field: str, change: int) -> Case:
    """`field` moved by `change` if the campaign's day counters are those of `day`.

    The counters only speak of the current UTC day: a hold or charge of an earlier day
    changes the totals and leaves them be.
    """
    return Case(
        When(day=day, then=F(field) + change), default=F(field), output_field=BigIntegerField()
    )
