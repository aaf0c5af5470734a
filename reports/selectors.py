"""Reads of the reports: aggregates over the rollups, and the raw rows behind the row reports.

Pages, CSV exports and the JSON API all read through here, with one `ReportFilter`, so
the three always show the same rows in the same order.
"""

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce

from adnet.core import clock
from billing.models import Conversion, Reconciliation
from campaigns import selectors as campaign_selectors
from campaigns.models import Campaign, Placement
from facilitators.models import Facilitator
from reports.explorers import tx_url
from reports.models import (
    TRAFFIC_MEASURES,
    Granularity,
    InvalidTrafficRollup,
    RollupCheck,
    RollupState,
    TrafficRollup,
)

TOP = 10
EXPORT_CHUNK = 2000


@dataclass(frozen=True)
class ReportFilter:
    """The UTC days [start, end) and the optional narrowing every report accepts."""

    start: dt.date
    end: dt.date
    campaign_id: uuid.UUID | None = None
    advertiser_id: uuid.UUID | None = None
    facilitator_id: uuid.UUID | None = None
    network: str = ""
    transport: str = ""

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return clock.day_bounds(self.start)[0], clock.day_bounds(self.end)[0]

    @property
    def names_campaigns(self) -> bool:
        """Narrowed to some campaigns: unanswered match requests (no campaign) drop out,
        so a fill rate would be meaningless."""
        return self.campaign_id is not None or self.advertiser_id is not None

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days)]


def default_filter(now: dt.datetime | None = None, days: int = 30) -> ReportFilter:
    today = clock.utc_day(now or clock.now())
    return ReportFilter(start=today - dt.timedelta(days=days - 1), end=today + dt.timedelta(days=1))


def _narrow(qs: QuerySet, report: ReportFilter, paths: dict[str, str]) -> QuerySet:
    """Apply the filter's optional parts through the given lookups of the queryset."""
    conditions = {
        "campaign": report.campaign_id,
        "advertiser": report.advertiser_id,
        "facilitator": report.facilitator_id,
        "network": report.network or None,
        "transport": report.transport or None,
    }
    for name, value in conditions.items():
        if value is not None:
            qs = qs.filter(**{paths[name]: value})
    return qs


ROLLUP_PATHS = {
    "campaign": "campaign_id",
    "advertiser": "campaign__advertiser_id",
    "facilitator": "facilitator_id",
    "network": "network",
    "transport": "transport",
}


def traffic(report: ReportFilter, granularity: str = Granularity.DAY) -> QuerySet[TrafficRollup]:
    start, end = report.bounds
    qs = TrafficRollup.objects.filter(granularity=granularity, start__gte=start, start__lt=end)
    return _narrow(qs, report, ROLLUP_PATHS)


def invalid(
    report: ReportFilter, granularity: str = Granularity.DAY
) -> QuerySet[InvalidTrafficRollup]:
    start, end = report.bounds
    qs = InvalidTrafficRollup.objects.filter(
        granularity=granularity, start__gte=start, start__lt=end
    )
    return _narrow(qs, report, ROLLUP_PATHS)


def _sums() -> dict[str, Any]:
    return {name: Coalesce(Sum(name), 0) for name in TRAFFIC_MEASURES}


def fill_rate(answered: int, unanswered: int) -> float | None:
    total = answered + unanswered
    return answered / total if total else None


def _with_rates(row: dict, *, fill: bool = True) -> dict:
    row["match_requests"] = row["matches_answered"] + row["matches_unanswered"]
    row["fill_rate"] = (
        fill_rate(row["matches_answered"], row["matches_unanswered"]) if fill else None
    )
    return row


# --- Overview ------------------------------------------------------------------------------


def totals(report: ReportFilter) -> dict:
    row = traffic(report).aggregate(**_sums())
    row["invalid_traffic"] = invalid(report).aggregate(n=Coalesce(Sum("count"), 0))["n"]
    return _with_rates(row, fill=not report.names_campaigns)


def network_loss(report: ReportFilter) -> dict:
    """What the network lost on its own account in the range (never the facilitators'):
    placements answered but never written, and match journal records set aside."""
    since, until = report.bounds
    return {
        "lost_placements": campaign_selectors.lost_placement_count(since=since, until=until),
        "journal_set_aside": campaign_selectors.journal_set_aside_count(since=since, until=until),
    }


def daily_series(report: ReportFilter) -> list[dict]:
    """One row per day of the range, zeros included, so charts have no gaps."""
    rows = {
        clock.utc_day(row["start"]): row
        for row in traffic(report).values("start").annotate(**_sums()).order_by()
    }
    bad = dict(invalid(report).values("start").annotate(n=Sum("count")).values_list("start", "n"))
    bad = {clock.utc_day(start): n for start, n in bad.items()}
    series = []
    for day in report.days():
        row = rows.get(day) or {name: 0 for name in TRAFFIC_MEASURES}
        row = {name: row[name] for name in TRAFFIC_MEASURES}
        row["day"] = day
        row["invalid_traffic"] = bad.get(day, 0)
        series.append(_with_rates(row, fill=not report.names_campaigns))
    return series


def hourly_today(report: ReportFilter, now: dt.datetime) -> list[dict]:
    """Today's 24 hours, when today is inside the range (empty list otherwise)."""
    today = clock.utc_day(now)
    if not report.start <= today < report.end:
        return []
    midnight, _ = clock.day_bounds(today)
    single = ReportFilter(
        start=today,
        end=today + dt.timedelta(days=1),
        campaign_id=report.campaign_id,
        advertiser_id=report.advertiser_id,
        facilitator_id=report.facilitator_id,
        network=report.network,
        transport=report.transport,
    )
    rows = {
        row["start"]: row
        for row in traffic(single, Granularity.HOUR).values("start").annotate(**_sums()).order_by()
    }
    series = []
    for hour in range(24):
        start = midnight + dt.timedelta(hours=hour)
        row = rows.get(start) or {name: 0 for name in TRAFFIC_MEASURES}
        series.append({"hour": start, **{name: row[name] for name in TRAFFIC_MEASURES}})
    return series


def top_campaigns(report: ReportFilter, limit: int = TOP) -> list[dict]:
    rows = (
        traffic(report)
        .filter(campaign__isnull=False)
        .values("campaign_id")
        .annotate(
            campaign_name=F("campaign__name"),
            advertiser_name=F("campaign__advertiser__name"),
            **_sums(),
        )
        .order_by("-billed_millis", "-placements", "campaign_name")[:limit]
    )
    return [_with_rates(dict(row), fill=False) for row in rows]


def facilitators(report: ReportFilter) -> list[dict]:
    """Per facilitator: what it asked, what it got, what it delivered, what it earned us."""
    rows = [
        _with_rates(dict(row), fill=not report.names_campaigns)
        for row in traffic(report)
        .values("facilitator_id")
        .annotate(facilitator_name=F("facilitator__name"), **_sums())
        .order_by("facilitator_name", "facilitator_id")
    ]
    bad = dict(
        invalid(report)
        .values("facilitator_id")
        .annotate(n=Sum("count"))
        .values_list("facilitator_id", "n")
    )
    seen = set()
    for row in rows:
        placements = row["placements"]
        row["delivery_rate"] = row["deliveries"] / placements if placements else None
        row["invalid_traffic"] = bad.get(row["facilitator_id"], 0)
        seen.add(row["facilitator_id"])
    # A facilitator that only sent invalid traffic still belongs in the report.
    names = dict(
        Facilitator.objects.filter(pk__in=[k for k in bad if k and k not in seen]).values_list(
            "id", "name"
        )
    )
    for facilitator_id, name in sorted(names.items(), key=lambda item: item[1]):
        row = _with_rates(
            {
                "facilitator_id": facilitator_id,
                "facilitator_name": name,
                **dict.fromkeys(TRAFFIC_MEASURES, 0),
            },
            fill=False,
        )
        row["delivery_rate"] = None
        row["invalid_traffic"] = bad[facilitator_id]
        rows.append(row)
    return rows


def top_facilitators(report: ReportFilter, limit: int = TOP) -> list[dict]:
    rows = facilitators(report)
    rows.sort(key=lambda row: (-row["billed_millis"], -row["match_requests"]))
    return rows[:limit]


def invalid_by_reason(report: ReportFilter) -> list[dict]:
    return list(
        invalid(report).values("reason").annotate(count=Sum("count")).order_by("-count", "reason")
    )


def invalid_rows(report: ReportFilter) -> QuerySet:
    """The invalid-traffic report: counts per reason, source, facilitator and campaign."""
    return (
        invalid(report)
        .values("reason", "source", "facilitator_id", "campaign_id")
        .annotate(
            facilitator_name=F("facilitator__name"),
            campaign_name=F("campaign__name"),
            count=Sum("count"),
        )
        .order_by("-count", "reason", "source", "facilitator_name", "campaign_name")
    )


def traffic_rows(report: ReportFilter, granularity: str = Granularity.DAY) -> QuerySet:
    """The rollup rows themselves, one per period and cell."""
    return (
        traffic(report, granularity)
        .values(
            "start",
            "campaign_id",
            "facilitator_id",
            "network",
            "transport",
            *TRAFFIC_MEASURES,
        )
        .annotate(campaign_name=F("campaign__name"), facilitator_name=F("facilitator__name"))
        .order_by("start", "campaign_name", "facilitator_name", "network", "transport", "pk")
    )


# --- Raw rows: conversions and the delivery log --------------------------------------------

CONVERSION_FIELDS = (
    "id",
    "converted_at",
    "campaign_id",
    "network",
    "payer",
    "original_tx_hash",
    "conversion_tx_hash",
    "status",
    "source",
    "placement_id",
    "placement__matched_at",
    "placement__facilitator_id",
    "placement__transport",
    "placement__billed_millis",
    "converting_facilitator_id",
)

CONVERSION_PATHS = {
    "campaign": "campaign_id",
    "advertiser": "campaign__advertiser_id",
    "facilitator": "placement__facilitator_id",
    "network": "network",
    "transport": "placement__transport",
}


def conversions(report: ReportFilter) -> QuerySet:
    """Conversions that happened in the range, newest first."""
    start, end = report.bounds
    qs = Conversion.objects.filter(converted_at__gte=start, converted_at__lt=end)
    return (
        _narrow(qs, report, CONVERSION_PATHS)
        .order_by("-converted_at", "-id")
        .values_list(*CONVERSION_FIELDS)
    )


PLACEMENT_FIELDS = (
    "id",
    "matched_at",
    "campaign_id",
    "facilitator_id",
    "network",
    "transport",
    "payer",
    "bid_strategy",
    "state",
    "delivered_at",
    "impression_at",
    "clicked_at",
    "price_millis",
    "billed_millis",
)

PLACEMENT_PATHS = {
    "campaign": "campaign_id",
    "advertiser": "campaign__advertiser_id",
    "facilitator": "facilitator_id",
    "network": "network",
    "transport": "transport",
}


def placements(report: ReportFilter) -> QuerySet:
    """The delivery log: placements matched in the range, newest first."""
    start, end = report.bounds
    qs = Placement.objects.filter(matched_at__gte=start, matched_at__lt=end)
    return (
        _narrow(qs, report, PLACEMENT_PATHS)
        .order_by("-matched_at", "-id")
        .values_list(*PLACEMENT_FIELDS)
    )


class Names:
    """Campaign, advertiser and facilitator names by id, loaded once per report: cheaper
    than joining them onto every one of a million exported rows."""

    def __init__(self) -> None:
        self.campaigns: dict[uuid.UUID, tuple[str, str]] = {
            row[0]: (row[1], row[2])
            for row in Campaign.objects.values_list("id", "name", "advertiser__name")
        }
        self.facilitators: dict[uuid.UUID, str] = dict(
            Facilitator.objects.values_list("id", "name")
        )

    def campaign(self, campaign_id: uuid.UUID | None) -> str:
        return self.campaigns.get(campaign_id, ("", ""))[0] if campaign_id else ""

    def advertiser(self, campaign_id: uuid.UUID | None) -> str:
        return self.campaigns.get(campaign_id, ("", ""))[1] if campaign_id else ""

    def facilitator(self, facilitator_id: uuid.UUID | None) -> str:
        return self.facilitators.get(facilitator_id, "") if facilitator_id else ""


def conversion_record(row: tuple, names: Names) -> dict:
    record = dict(zip(CONVERSION_FIELDS, row, strict=True))
    matched_at = record.pop("placement__matched_at")
    return {
        "id": record["id"],
        "converted_at": record["converted_at"],
        "matched_at": matched_at,
        "seconds_to_convert": int((record["converted_at"] - matched_at).total_seconds()),
        "campaign_id": record["campaign_id"],
        "campaign_name": names.campaign(record["campaign_id"]),
        "advertiser_name": names.advertiser(record["campaign_id"]),
        "facilitator_id": record["placement__facilitator_id"],
        "facilitator_name": names.facilitator(record["placement__facilitator_id"]),
        "converting_facilitator_id": record["converting_facilitator_id"],
        "converting_facilitator_name": names.facilitator(record["converting_facilitator_id"]),
        "network": record["network"],
        "transport": record["placement__transport"],
        "payer": record["payer"],
        "original_tx_hash": record["original_tx_hash"],
        "original_tx_url": tx_url(record["network"], record["original_tx_hash"]),
        "conversion_tx_hash": record["conversion_tx_hash"],
        "conversion_tx_url": tx_url(record["network"], record["conversion_tx_hash"]),
        "status": record["status"],
        "source": record["source"],
        "placement_id": record["placement_id"],
        "billed_millis": record["placement__billed_millis"],
    }


def placement_record(row: tuple, names: Names) -> dict:
    record = dict(zip(PLACEMENT_FIELDS, row, strict=True))
    record["campaign_name"] = names.campaign(record["campaign_id"])
    record["facilitator_name"] = names.facilitator(record["facilitator_id"])
    return record


def stream(qs: QuerySet, chunk_size: int = EXPORT_CHUNK) -> Iterator:
    """Every row of a queryset with flat memory: a server-side cursor, read in chunks.

    Inside a transaction so PostgreSQL can use a plain cursor (outside one, Django declares
    it WITH HOLD and the server materialises the whole result before the first row)."""
    with transaction.atomic():
        yield from qs.iterator(chunk_size=chunk_size)


# --- Freshness and checks ------------------------------------------------------------------


def rollup_status(now: dt.datetime | None = None) -> dict:
    """How far behind the raw rows today's rollups are.

    `fresh_until` is the moment up to which every raw row of today is in the rollups: the
    snapshot of today's last rebuild, or midnight if only yesterday was rebuilt after it.
    """
    now = now or clock.now()
    today = clock.utc_day(now)
    midnight, _ = clock.day_bounds(today)
    states = {
        state.day: state
        for state in RollupState.objects.filter(day__gte=today - dt.timedelta(days=1))
    }
    fresh_until = None
    if today in states:
        fresh_until = states[today].as_of
    elif today - dt.timedelta(days=1) in states:
        fresh_until = min(states[today - dt.timedelta(days=1)].as_of, midnight)
    lag = max(0.0, (now - fresh_until).total_seconds()) if fresh_until else None
    latest = RollupState.objects.order_by("-finished_at", "-day").first()
    return {
        "ok": lag is not None and lag <= settings.REPORTS_MAX_LAG_SECONDS,
        "lag_seconds": None if lag is None else round(lag, 1),
        "max_lag_seconds": settings.REPORTS_MAX_LAG_SECONDS,
        "fresh_until": fresh_until,
        "last_rebuild": None
        if latest is None
        else {
            "day": latest.day,
            "finished_at": latest.finished_at,
            "duration_ms": latest.duration_ms,
            "traffic_rows": latest.traffic_rows,
            "invalid_rows": latest.invalid_rows,
        },
    }


def latest_checks() -> dict:
    """The latest rollup check (rollups vs raw rows) and billing reconciliation (counters
    vs ledger), for the overview."""
    return {
        "rollups": RollupCheck.objects.order_by("-ran_at").first(),
        "ledger": Reconciliation.objects.order_by("-ran_at").first(),
    }
