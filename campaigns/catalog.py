"""Each process's compiled snapshot of the live campaigns, rebuilt when they change.

A match reads one row (CatalogVersion) to know whether its snapshot is current; the
snapshot is rebuilt only when a campaign service bumped the version, or once a minute so
that schedules that open are seen. Budgets are not part of it: they are checked
atomically in the database when a placement takes its hold.
"""

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.db.models import Q

from campaigns.matching.index import CampaignIndex
from campaigns.models import Campaign, CatalogVersion
from campaigns.selectors import card_for, recent_history

MAX_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class Catalog:
    version: int
    built_at: float
    index: CampaignIndex
    rows: dict[str, Campaign]


_lock = threading.Lock()
_current: Catalog | None = None


def _version() -> int:
    return CatalogVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def build(version: int, now: dt.datetime) -> Catalog:
    rows = (
        Campaign.objects.select_related("advertiser")
        .filter(status=Campaign.Status.ACTIVE)
        .filter(Q(schedule_end__isnull=True) | Q(schedule_end__gt=now))
    )
    by_id = {str(row.id): row for row in rows}
    history = recent_history(now)
    index = CampaignIndex(card_for(row, history.get(row.id)) for row in by_id.values())
    return Catalog(version=version, built_at=time.monotonic(), index=index, rows=by_id)


def current(now: dt.datetime) -> Catalog:
    """The snapshot to match against now."""
    global _current
    version = _version()
    snapshot = _current
    if (
        snapshot is not None
        and snapshot.version == version
        and (time.monotonic() - snapshot.built_at < MAX_AGE_SECONDS)
    ):
        return snapshot
    with _lock:
        snapshot = _current
        if (
            snapshot is None
            or snapshot.version != version
            or (time.monotonic() - snapshot.built_at >= MAX_AGE_SECONDS)
        ):
            snapshot = _current = build(version, now)
    return snapshot


def forget() -> None:
    """Drop this process's snapshot (tests that write campaigns behind the services' back)."""
    global _current
    with _lock:
        _current = None
