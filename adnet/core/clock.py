"""UTC time: one place to read the clock and to cut time into half-open UTC days."""

import datetime as dt

from django.utils import timezone

UTC = dt.UTC


def now() -> dt.datetime:
    return timezone.now()


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(UTC).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The half-open interval [start, end) of a UTC day."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + dt.timedelta(days=1)


def isoformat(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
