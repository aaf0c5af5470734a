"""Each process's compiled snapshot of the live campaigns, rebuilt when they change.

Every change to what matching may see bumps CatalogVersion in PostgreSQL and, once that
commits, publishes the number to Redis (`campaigns.budget`). With the Redis budget store,
the match script itself compares the snapshot's number with Redis's and refuses a stale
one, so a change reaches every process by its next match without a query of its own. The
process that made the change drops its snapshot at once. Without Redis, a match reads the
version row.

Either way, the delivery history the estimates use is read again once a minute, into a
new snapshot that shares everything else with the old one (`with_history`: one query,
whatever the number of campaigns). The version row is read then too, so a change whose
publication to Redis failed is seen within the minute. The whole snapshot is rebuilt
every ten minutes, in case a change reached the database without a new version. With the
Redis store both happen in a background thread while matches go on with the old snapshot
(still exact: the version did not change, and schedules are checked at match time);
building one takes 0.1 to 0.3 s per thousand campaigns, which no match should wait for.

Budgets are not part of the snapshot: they are checked atomically when a placement takes
its hold (campaigns.budget, campaigns.grants, campaigns.services).
"""

import dataclasses
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Q

from adnet.core import clock, heap
from campaigns import budget, journal
from campaigns.matching import engine
from campaigns.matching.engine import NO_HISTORY, CampaignCard
from campaigns.matching.index import CampaignIndex
from campaigns.models import Campaign, CatalogVersion
from campaigns.selectors import card_for, recent_history

logger = logging.getLogger(__name__)

# A snapshot is built again after this long, and its delivery history read again after
# HISTORY_AGE_SECONDS.
MAX_AGE_SECONDS = 600.0
HISTORY_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class Catalog:
    version: int
    built_at: float  # time.monotonic() of the campaigns' reading
    history_at: float  # and of the delivery history's
    index: CampaignIndex
    rows: dict[str, Campaign]
    holds: dict[str, int]
    # What the match script needs of a (campaign, billing event): built on first use.
    candidates: dict[tuple[str, str], bytes] = field(default_factory=dict)
    # Each campaign's offer per transport (engine.rank memoises into it).
    offers: dict = field(default_factory=dict)

    def rank(self, settlement: engine.Settlement, now: dt.datetime, rng) -> list[engine.Offer]:
        """The campaigns that may answer this settlement, best first (engine.rank)."""
        return engine.rank(
            self.index.candidates(settlement.resource_url),
            settlement,
            now,
            rng,
            url_matched=True,
            offers=self.offers,
        )

    def candidate(self, card: CampaignCard, billing_event: str) -> bytes:
        """The campaign as the match script reads it: id, hold, frequency cap and what the
        journal needs for a placement (campaigns.budget.MATCH)."""
        key = (card.id, billing_event)
        found = self.candidates.get(key)
        if found is None:
            detail = journal.placement_detail(self.rows[card.id], billing_event)
            found = f"{card.id}\t{self.holds[card.id]}\t{card.frequency_cap}\t{detail}"
            found = self.candidates[key] = found.encode()
        return found


_lock = threading.Lock()
_current: Catalog | None = None
_background = threading.Lock()  # held while a background rebuild runs
_generation = 0  # moved by forget(): a rebuild started before it is not installed


def version() -> int:
    return CatalogVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def build(at_version: int, now: dt.datetime) -> Catalog:
    """A snapshot of the campaigns live at `now`; in a server process it is frozen out of
    the garbage collector's sight (adnet.core.heap), as it lives until the next one."""
    with heap.long_lived():
        return _build(at_version, now)


def _build(at_version: int, now: dt.datetime) -> Catalog:
    rows = (
        Campaign.objects.select_related("advertiser")
        .filter(status=Campaign.Status.ACTIVE)
        .filter(Q(schedule_end__isnull=True) | Q(schedule_end__gt=now))
    )
    by_id = {str(row.id): row for row in rows}
    history = delivery_history(now)
    index = CampaignIndex(card_for(row, history.get(key)) for key, row in by_id.items())
    holds = {
        key: engine.hold_millis(row.bid_strategy, row.max_bid_amount) for key, row in by_id.items()
    }
    read_at = time.monotonic()
    return Catalog(
        version=at_version,
        built_at=read_at,
        history_at=read_at,
        index=index,
        rows=by_id,
        holds=holds,
    )


def delivery_history(now: dt.datetime) -> dict[str, engine.History]:
    """Each campaign's delivery history of the last week, by campaign id: as the worker
    last published it (`publish_history`, once a minute), or read here if it has not.

    The query aggregates a week of placements, so it grows with traffic (about 80 ms of
    PostgreSQL's time at 230,000 placements). Every server process used to run it once a
    minute, all at about the same moment; now the worker runs it once for all of them."""
    shared = budget.read_history(now) if budget.enabled() else None
    if shared is not None:
        return {key: engine.History(*counts) for key, counts in shared.items()}
    return {str(key): stats for key, stats in recent_history(now).items()}


def publish_history(now: dt.datetime) -> int:
    """Read the delivery history and publish it for every server process (the worker,
    once a minute). Returns how many campaigns it covers."""
    history = recent_history(now)
    budget.publish_history(
        {
            str(key): (stats.placements, stats.impressions, stats.clicks, stats.conversions)
            for key, stats in history.items()
        },
        now,
    )
    return len(history)


def with_history(snapshot: Catalog, now: dt.datetime) -> Catalog:
    """The same snapshot with each campaign's delivery history read again: new cards where
    it changed, on the same index, rows and holds; the offers, which depend on it, start
    afresh."""
    with heap.long_lived():
        history = delivery_history(now)
        cards = {}
        for key, card in snapshot.index.cards.items():
            stats = history.get(key, NO_HISTORY)
            cards[key] = card if card.stats == stats else dataclasses.replace(card, stats=stats)
        return dataclasses.replace(
            snapshot,
            history_at=time.monotonic(),
            index=snapshot.index.with_cards(cards),
            offers={},
        )


def _fresh(snapshot: Catalog | None) -> bool:
    """Built less than MAX_AGE_SECONDS ago, its history read less than HISTORY_AGE_SECONDS."""
    if snapshot is None:
        return False
    at = time.monotonic()
    return (
        at - snapshot.built_at < MAX_AGE_SECONDS and at - snapshot.history_at < HISTORY_AGE_SECONDS
    )


def _renewed(snapshot: Catalog | None, now: dt.datetime, at_version: int | None = None) -> Catalog:
    """A successor for a snapshot that is not fresh: only its history read again when that
    is all it needs, else built again. The version row is read here too, so a change whose
    publication to Redis failed is seen within a minute all the same."""
    if at_version is None:
        at_version = version()
    if (
        snapshot is not None
        and snapshot.version == at_version
        and time.monotonic() - snapshot.built_at < MAX_AGE_SECONDS
    ):
        return with_history(snapshot, now)
    return build(at_version, now)


def _rebuild(now: dt.datetime, unless, make=None) -> Catalog:
    """Unless `unless(snapshot)`, install a new one: `make(snapshot)`, or by default built."""
    global _current
    with _lock:
        snapshot = _current
        if not unless(snapshot):
            snapshot = _current = make(snapshot) if make else build(version(), now)
    return snapshot


def current(now: dt.datetime) -> Catalog:
    """The snapshot to match against now, checked against the version row."""
    at_version = version()

    def usable(snap: Catalog | None) -> bool:
        return _fresh(snap) and snap.version == at_version

    snapshot = _current
    if usable(snapshot):
        return snapshot
    return _rebuild(now, usable, lambda snap: _renewed(snap, now, at_version))


def snapshot(now: dt.datetime) -> Catalog:
    """The snapshot as this process has it, built here only if missing; one that is no
    longer fresh is returned as it is and renewed in the background. The caller checks its
    version elsewhere (the match script), and a stale version is rebuilt at once
    (`refresh`)."""
    snap = _current
    if snap is None:
        return _rebuild(now, _fresh)
    if not _fresh(snap) and _background.acquire(blocking=False):
        threading.Thread(target=_rebuild_in_background, name="catalog-rebuild", daemon=True).start()
    return snap


def prepare(now: dt.datetime) -> bool:
    """Build this process's snapshot ahead of its first match: a server process does it
    before it takes requests, as the first match would otherwise build it and wait (0.1 to
    0.3 s per thousand campaigns: at ten thousand, longer than a facilitator waits). If the
    database cannot be read, the first match builds it instead. True if built."""
    try:
        _rebuild(now, _fresh)
    except Exception:  # the server starts anyway, and the first match builds it
        logger.warning("campaign snapshot not built at start", exc_info=True)
        return False
    return True


def _rebuild_in_background() -> None:
    global _current
    generation = _generation
    try:
        built = _renewed(_current, clock.now())
        with _lock:
            # A refresh for a newer version may have come first: keep the newer one.
            if generation == _generation and (
                _current is None or built.version >= _current.version
            ):
                _current = built
    except Exception:  # the old snapshot serves on; the next match tries again
        logger.warning("background catalog rebuild failed", exc_info=True)
    finally:
        connections.close_all()  # this thread's own database connection
        _background.release()


def refresh(now: dt.datetime, stale: Catalog) -> Catalog:
    """A new snapshot, unless another thread already replaced `stale`."""
    return _rebuild(now, lambda s: s is not None and s is not stale and _fresh(s))


def forget() -> None:
    """Drop this process's snapshot: after a change made here, or in tests."""
    global _current, _generation
    with _lock:
        _current = None
        _generation += 1
