"""Building the rollups from the raw rows, and checking them against the raw rows.

A day is rebuilt whole: its rows (hourly and daily) are deleted and inserted again from
grouped counts over the raw tables, in one transaction (today's minute run counts only its
last hours again and takes the earlier ones from their hourly rows). Re-running a day
changes nothing; a crash part-way leaves the previous rows; events that arrive late are
counted the next time their day is rebuilt. On PostgreSQL the rebuild reads one snapshot
(REPEATABLE READ), so all measures of a day are counted as of the same moment, and an
advisory lock per day makes concurrent rebuilds of one day take turns instead of
interleaving their writes."""

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Model, Q, Sum
from django.db.models.functions import TruncDate, TruncDay, TruncHour

from adnet.core import clock
from billing.models import Charge, Conversion, InvalidTraffic
from campaigns.models import MatchRequest, Placement
from events.models import SettlementEvent
from reports.models import (
    TRAFFIC_MEASURES,
    Granularity,
    InvalidTrafficRollup,
    RollupCheck,
    RollupState,
    TrafficRollup,
)

logger = logging.getLogger(__name__)

# pg_advisory_lock(class, day): the class keeps these locks apart from anyone else's.
LOCK_CLASS = 0x52505453  # "RPTS"

DIMENSIONS = ("campaign_id", "facilitator_id", "network", "transport")
INVALID_DIMENSIONS = (*DIMENSIONS, "source", "reason")


@dataclass(frozen=True)
class RawSource:
    """One raw table, the moment that places its rows in a period, and what it adds to a cell."""

    model: type[Model]
    timestamp: str
    # rollup dimension -> lookup on the raw row (joined through the placement when needed)
    dimensions: dict[str, str]
    measures: dict[str, object]
    where: Q = field(default_factory=Q)


PLACEMENT_DIMENSIONS = {
    "campaign_id": "campaign_id",
    "facilitator_id": "facilitator_id",
    "network": "network",
    "transport": "transport",
}
# Conversions, charges and invalid traffic belong to the cell of their placement.
VIA_PLACEMENT = {
    "campaign_id": "placement__campaign_id",
    "facilitator_id": "placement__facilitator_id",
    "network": "placement__network",
    "transport": "placement__transport",
}

TRAFFIC_SOURCES = (
    RawSource(
        MatchRequest,
        "received_at",
        {
            "campaign_id": "placement__campaign_id",
            "facilitator_id": "facilitator_id",
            "network": "network",
            "transport": "transport",
        },
        {
            "matches_answered": Count("pk", filter=Q(matched=True)),
            "matches_unanswered": Count("pk", filter=Q(matched=False)),
        },
    ),
    RawSource(Placement, "matched_at", PLACEMENT_DIMENSIONS, {"placements": Count("pk")}),
    RawSource(Placement, "delivered_at", PLACEMENT_DIMENSIONS, {"deliveries": Count("pk")}),
    RawSource(Placement, "impression_at", PLACEMENT_DIMENSIONS, {"impressions": Count("pk")}),
    RawSource(Placement, "clicked_at", PLACEMENT_DIMENSIONS, {"clicks": Count("pk")}),
    RawSource(Conversion, "converted_at", VIA_PLACEMENT, {"conversions": Count("pk")}),
    RawSource(
        Charge,
        "created_at",
        {**VIA_PLACEMENT, "campaign_id": "campaign_id", "facilitator_id": "facilitator_id"},
        {"billed_millis": Sum("amount_millis"), "unbilled_millis": Sum("unbilled_millis")},
    ),
    RawSource(
        SettlementEvent,
        "received_at",
        {**VIA_PLACEMENT, "facilitator_id": "facilitator_id", "network": "network"},
        {"settlement_events": Count("pk")},
    ),
)

INVALID_SOURCE = RawSource(
    InvalidTraffic,
    "occurred_at",
    {
        "campaign_id": "campaign_id",
        "facilitator_id": "facilitator_id",
        "network": "placement__network",
        "transport": "placement__transport",
        "source": "source",
        "reason": "reason",
    },
    {"count": Count("pk")},
)


def _grouped(
    source: RawSource, dimensions: tuple[str, ...], start: dt.datetime, end: dt.datetime, trunc
) -> Iterator[tuple]:
    """(period start, *cell, *measures) per period and cell of [start, end), grouped by the
    database; `trunc` is TruncHour or TruncDay."""
    ts = source.timestamp
    keys = {f"k_{name}": F(source.dimensions[name]) for name in dimensions}
    return (
        source.model.objects.filter(source.where, **{f"{ts}__gte": start, f"{ts}__lt": end})
        .annotate(k_period=trunc(ts, tzinfo=clock.UTC), **keys)
        .values("k_period", *keys)
        .annotate(**source.measures)
        .values_list("k_period", *keys, *source.measures)
        .order_by()
        .iterator(chunk_size=5000)
    )


def _cell(values: tuple, dimensions: tuple[str, ...]) -> tuple:
    # A left join through a missing placement gives NULL; the rollup keeps "" for strings.
    return tuple(
        value if value is not None or name.endswith("_id") else ""
        for name, value in zip(dimensions, values, strict=True)
    )


def count(start: dt.datetime, end: dt.datetime, *, hourly: bool) -> tuple[dict, dict]:
    """Counts of [start, end) per hour (or per UTC day): ({(period, *cell): {measure: n}},
    and {(period, *cell, source, reason): n} for invalid traffic)."""
    trunc = TruncHour if hourly else TruncDay
    width = len(DIMENSIONS)
    traffic: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TRAFFIC_MEASURES, 0))
    for source in TRAFFIC_SOURCES:
        names = tuple(source.measures)
        for row in _grouped(source, DIMENSIONS, start, end, trunc):
            cell = traffic[(row[0], *_cell(row[1 : 1 + width], DIMENSIONS))]
            for name, value in zip(names, row[1 + width :], strict=True):
                cell[name] += value or 0
    invalid: dict[tuple, int] = defaultdict(int)
    for row in _grouped(INVALID_SOURCE, INVALID_DIMENSIONS, start, end, trunc):
        invalid[(row[0], *_cell(row[1:-1], INVALID_DIMENSIONS))] += row[-1]
    return dict(traffic), dict(invalid)


def _daily(day_start: dt.datetime, *parts: dict) -> dict:
    """Sum cells over their periods into one day's cells (a daily row is exactly the sum
    of its hours); cells already counted per day come out unchanged."""
    daily: dict = {}
    for cells in parts:
        for (_period, *cell), value in cells.items():
            key = (day_start, *cell)
            if isinstance(value, dict):
                total = daily.setdefault(key, dict.fromkeys(value, 0))
                for name, n in value.items():
                    total[name] += n
            else:
                daily[key] = daily.get(key, 0) + value
    return daily


def stored_hours(start: dt.datetime, end: dt.datetime) -> tuple[dict, dict]:
    """The hourly rollup rows of [start, end) summed per cell by the database, keyed like
    `count`'s cells with `start` as their period: what those hours held when last rebuilt."""
    if end <= start:
        return {}, {}
    hours = {"granularity": Granularity.HOUR, "start__gte": start, "start__lt": end}
    sums = {f"s_{name}": Sum(name) for name in TRAFFIC_MEASURES}
    traffic = {
        (start, *row[: len(DIMENSIONS)]): dict(
            zip(TRAFFIC_MEASURES, row[len(DIMENSIONS) :], strict=True)
        )
        for row in TrafficRollup.objects.filter(**hours)
        .values(*DIMENSIONS)
        .annotate(**sums)
        .values_list(*DIMENSIONS, *sums)
        .order_by()
    }
    invalid = {
        (start, *row[:-1]): row[-1]
        for row in InvalidTrafficRollup.objects.filter(**hours)
        .values(*INVALID_DIMENSIONS)
        .annotate(s_count=Sum("count"))
        .values_list(*INVALID_DIMENSIONS, "s_count")
        .order_by()
    }
    return traffic, invalid


def _traffic_rows(granularity: str, cells: dict) -> list[TrafficRollup]:
    return [
        TrafficRollup(
            granularity=granularity,
            start=key[0],
            **dict(zip(DIMENSIONS, key[-len(DIMENSIONS) :], strict=True)),
            **measures,
        )
        for key, measures in cells.items()
        if any(measures.values())
    ]


def _invalid_rows(granularity: str, cells: dict) -> list[InvalidTrafficRollup]:
    return [
        InvalidTrafficRollup(
            granularity=granularity,
            start=key[0],
            **dict(zip(INVALID_DIMENSIONS, key[-len(INVALID_DIMENSIONS) :], strict=True)),
            count=n,
        )
        for key, n in cells.items()
        if n
    ]


# --- Transactions and locks ----------------------------------------------------------------


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def _day_lock(day: dt.date) -> Iterator[None]:
    """Rebuilds of the same day take turns. A session lock, taken before the transaction
    starts, so that the snapshot a rebuild reads is taken after the previous one committed."""
    if not _is_postgres():
        yield  # SQLite runs one write transaction at a time anyway.
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, day.toordinal()])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, day.toordinal()])
        except DatabaseError:
            # Closing the session releases its locks: connections are kept between requests
            # and tasks (CONN_MAX_AGE), so one left open could hold this lock for a minute.
            logger.warning("could not release the rollup lock of %s", day)
            connection.close()


@contextmanager
def consistent_read() -> Iterator[None]:
    """One transaction reading one snapshot, with room for aggregate queries."""
    outermost = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        if _is_postgres():
            with connection.cursor() as cursor:
                if outermost:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    [str(settings.REPORTS_STATEMENT_TIMEOUT_MS)],
                )
        yield


# --- Rebuilding ----------------------------------------------------------------------------


def keeps_hourly(day: dt.date, now: dt.datetime) -> bool:
    return day > clock.utc_day(now) - dt.timedelta(days=settings.REPORTS_HOURLY_DAYS)


def _replace(
    granularity: str, start: dt.datetime, end: dt.datetime, traffic: dict, invalid: dict
) -> tuple[int, int]:
    """Overwrite the rows of one granularity in [start, end) with these cells."""
    rows, bad = _traffic_rows(granularity, traffic), _invalid_rows(granularity, invalid)
    TrafficRollup.objects.filter(granularity=granularity, start__gte=start, start__lt=end).delete()
    InvalidTrafficRollup.objects.filter(
        granularity=granularity, start__gte=start, start__lt=end
    ).delete()
    TrafficRollup.objects.bulk_create(rows, batch_size=2000)
    InvalidTrafficRollup.objects.bulk_create(bad, batch_size=2000)
    return len(rows), len(bad)


def _recount_from(
    day: dt.date, start: dt.datetime, this_hour: dt.datetime, recent_hours: int
) -> dt.datetime:
    """Where today's minute run starts counting raw rows: the last `recent_hours` hours,
    or earlier if an hour before them was never counted after it ended (the first run of
    the day, or beat stopped for a while)."""
    previous = RollupState.objects.filter(day=day, hourly=True).first()
    if previous is None or previous.hours_closed_until is None:
        return start
    recent = this_hour - dt.timedelta(hours=recent_hours - 1)
    return max(start, min(previous.hours_closed_until, recent))


def roll_up_day(
    *,
    day: dt.date,
    now: dt.datetime | None = None,
    hourly: bool | None = None,
    recent_hours: int | None = None,
) -> RollupState:
    """Rebuild one UTC day's rollups from the raw rows, replacing what was there.

    With `recent_hours` (today's run every minute) only the raw rows of the last hours are
    counted again: the daily rows are the hourly rows stored for the hours before them
    plus the new counts, so the run costs the same at 23:00 as at 01:00. An event that
    reaches an earlier hour after that hour was last counted waits for the next whole-day
    run (`roll_up_recent`)."""
    started = time.monotonic()
    start, end = clock.day_bounds(day)
    with _day_lock(day), consistent_read():
        # Read before the first query: every row committed before this is in the snapshot.
        as_of = now or clock.now()
        hourly = keeps_hourly(day, as_of) if hourly is None else hourly
        this_hour = as_of.astimezone(clock.UTC).replace(minute=0, second=0, microsecond=0)
        this_hour = min(max(this_hour, start), end)
        since = start
        if hourly and recent_hours:
            since = _recount_from(day, start, this_hour, recent_hours)
        # Grouped by hour when hourly rows are kept (the daily rows are their sums),
        # else by day: far fewer groups to read back.
        traffic, invalid = count(since, end, hourly=hourly)
        kept_traffic, kept_invalid = stored_hours(start, since)
        written = _replace(
            Granularity.DAY,
            start,
            end,
            _daily(start, kept_traffic, traffic),
            _daily(start, kept_invalid, invalid),
        )
        more = _replace(
            Granularity.HOUR, since, end, traffic if hourly else {}, invalid if hourly else {}
        )
        state, _ = RollupState.objects.update_or_create(
            day=day,
            defaults={
                "as_of": as_of,
                "finished_at": clock.now(),
                "duration_ms": int((time.monotonic() - started) * 1000),
                "traffic_rows": written[0] + more[0],
                "invalid_rows": written[1] + more[1],
                "hourly": hourly,
                "hours_closed_until": this_hour if hourly else None,
            },
        )
    return state


def roll_up_today(*, now: dt.datetime | None = None) -> RollupState:
    """Every minute: today (the raw rows of this hour and the last counted again); and
    yesterday once more, whole, if it was last rebuilt before it ended."""
    today = clock.utc_day(now or clock.now())
    midnight, _ = clock.day_bounds(today)
    yesterday = today - dt.timedelta(days=1)
    previous = RollupState.objects.filter(day=yesterday).first()
    if previous is None or previous.as_of < midnight:
        roll_up_day(day=yesterday, now=now)
    return roll_up_day(day=today, now=now, recent_hours=2)


def roll_up_recent(*, now: dt.datetime | None = None) -> list[RollupState]:
    """Every few minutes: the last closed days and today, whole, for events that arrive
    late; and hourly rows older than REPORTS_HOURLY_DAYS dropped (their days keep the
    daily rows)."""
    today = clock.utc_day(now or clock.now())
    states = [
        roll_up_day(day=today - dt.timedelta(days=back), now=now)
        for back in range(settings.REPORTS_LATE_DAYS, -1, -1)
    ]
    oldest_hourly, _ = clock.day_bounds(today - dt.timedelta(days=settings.REPORTS_HOURLY_DAYS - 1))
    TrafficRollup.objects.filter(granularity=Granularity.HOUR, start__lt=oldest_hourly).delete()
    InvalidTrafficRollup.objects.filter(
        granularity=Granularity.HOUR, start__lt=oldest_hourly
    ).delete()
    return states


def roll_up_range(*, start: dt.date, end: dt.date, now: dt.datetime | None = None) -> int:
    """Rebuild the days [start, end), oldest first (backfill, or after a fix)."""
    day, days = start, 0
    while day < end:
        roll_up_day(day=day, now=now)
        day += dt.timedelta(days=1)
        days += 1
    return days


# --- Reconciliation ------------------------------------------------------------------------

# Each measure counted straight from its raw table per UTC day, with no joins, so a join
# or a grouping that loses rows in the rollup build shows up here as a difference.
RAW_DAY_TOTALS = (
    ("matches_answered", MatchRequest, "received_at", Q(matched=True), Count("pk")),
    ("matches_unanswered", MatchRequest, "received_at", Q(matched=False), Count("pk")),
    ("placements", Placement, "matched_at", Q(), Count("pk")),
    ("deliveries", Placement, "delivered_at", Q(), Count("pk")),
    ("impressions", Placement, "impression_at", Q(), Count("pk")),
    ("clicks", Placement, "clicked_at", Q(), Count("pk")),
    ("conversions", Conversion, "converted_at", Q(), Count("pk")),
    ("settlement_events", SettlementEvent, "received_at", Q(), Count("pk")),
    ("billed_millis", Charge, "created_at", Q(), Sum("amount_millis")),
    ("unbilled_millis", Charge, "created_at", Q(), Sum("unbilled_millis")),
    ("invalid_traffic", InvalidTraffic, "occurred_at", Q(), Count("pk")),
)


def raw_day_totals(start: dt.date, end: dt.date) -> dict[tuple[dt.date, str], int]:
    """{(day, measure): total} over the raw rows of the days [start, end)."""
    lower, _ = clock.day_bounds(start)
    upper, _ = clock.day_bounds(end)
    totals: dict[tuple[dt.date, str], int] = {}
    for measure, model, ts, where, aggregate in RAW_DAY_TOTALS:
        rows = (
            model.objects.filter(where, **{f"{ts}__gte": lower, f"{ts}__lt": upper})
            .annotate(k_day=TruncDate(ts, tzinfo=clock.UTC))
            .values("k_day")
            .annotate(total=aggregate)
            .order_by()
        )
        for row in rows:
            if row["total"]:
                totals[(row["k_day"], measure)] = row["total"]
    return totals


def rollup_day_totals(start: dt.date, end: dt.date) -> dict[tuple[dt.date, str], int]:
    """{(day, measure): total} over the daily rollup rows of the days [start, end)."""
    lower, _ = clock.day_bounds(start)
    upper, _ = clock.day_bounds(end)
    totals: dict[tuple[dt.date, str], int] = {}
    traffic = (
        TrafficRollup.objects.filter(granularity=Granularity.DAY, start__gte=lower, start__lt=upper)
        .values("start")
        .annotate(**{name: Sum(name) for name in TRAFFIC_MEASURES})
        .order_by()
    )
    for row in traffic:
        day = clock.utc_day(row["start"])
        for name in TRAFFIC_MEASURES:
            if row[name]:
                totals[(day, name)] = row[name]
    invalid = (
        InvalidTrafficRollup.objects.filter(
            granularity=Granularity.DAY, start__gte=lower, start__lt=upper
        )
        .values("start")
        .annotate(total=Sum("count"))
        .order_by()
    )
    for row in invalid:
        if row["total"]:
            totals[(clock.utc_day(row["start"]), "invalid_traffic")] = row["total"]
    return totals


def compare(start: dt.date, end: dt.date) -> list[dict]:
    """Every (day, measure) of [start, end) where the rollups and the raw rows disagree."""
    with consistent_read():
        raw = raw_day_totals(start, end)
        rolled = rollup_day_totals(start, end)
    return [
        {
            "day": day.isoformat(),
            "measure": measure,
            "rollup": rolled.get((day, measure), 0),
            "raw": raw.get((day, measure), 0),
        }
        for day, measure in sorted(set(raw) | set(rolled))
        if rolled.get((day, measure), 0) != raw.get((day, measure), 0)
    ]


def reconcile_rollups(*, now: dt.datetime | None = None, days: int | None = None) -> RollupCheck:
    """Daily: compare the closed days' rollups with the raw rows, rebuild the days that
    differ (late events), and record what differed and whatever still differs after."""
    now = now or clock.now()
    today = clock.utc_day(now)
    start = today - dt.timedelta(days=days or settings.REPORTS_RECONCILE_DAYS)
    differences = compare(start, today)
    rebuilt = sorted({row["day"] for row in differences})
    remaining: list[dict] = []
    for day in rebuilt:
        moment = dt.date.fromisoformat(day)
        roll_up_day(day=moment, now=now)
        remaining += compare(moment, moment + dt.timedelta(days=1))
    if remaining:
        logger.error("rollups still differ from the raw rows after a rebuild: %s", remaining)
    elif differences:
        logger.warning("rollups of %s were behind the raw rows; rebuilt", rebuilt)
    return RollupCheck.objects.create(
        ran_at=now,
        start=start,
        end=today,
        days_checked=(today - start).days,
        differences=differences,
        rebuilt=rebuilt,
        remaining=remaining,
    )
