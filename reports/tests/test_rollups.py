"""Rollups against generated traffic: each equals a direct count over the raw rows, a
rebuild is idempotent, late events are picked up, and a failed rebuild changes nothing."""

import datetime as dt
import threading
from collections import Counter, defaultdict

import pytest
from django.db import connections

from adnet.core import clock
from billing import services as billing
from billing.models import Charge, Conversion, InvalidTraffic
from campaigns.models import MatchRequest, Placement
from events.models import SettlementEvent
from reports import selectors, services
from reports.models import (
    TRAFFIC_MEASURES,
    Granularity,
    InvalidTrafficRollup,
    RollupState,
    TrafficRollup,
)
from reports.tests import traffic
from reports.tests.traffic import start_of

DAY1 = dt.date(2026, 3, 9)
DAY2 = dt.date(2026, 3, 10)
DAY3 = dt.date(2026, 3, 11)
MEASURES = TRAFFIC_MEASURES


def _hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def expected_traffic(day: dt.date) -> dict:
    """Recount one day from the raw rows in Python, one row at a time, with no SQL grouping:
    {(granularity, start, campaign, facilitator, network, transport): {measure: n}}."""
    lower, upper = clock.day_bounds(day)
    placements = {p.id: p for p in Placement.objects.all()}
    by_request = {p.match_request_id: p for p in placements.values()}
    cells: dict = defaultdict(Counter)

    def add(moment, campaign, facilitator, network, transport, measure, n=1):
        if moment is None or not lower <= moment < upper:
            return
        for granularity, start in (("hour", _hour(moment)), ("day", lower)):
            cells[(granularity, start, campaign, facilitator, network, transport)][measure] += n

    for request in MatchRequest.objects.all():
        placement = by_request.get(request.id)
        measure = "matches_answered" if request.matched else "matches_unanswered"
        add(
            request.received_at,
            placement.campaign_id if placement else None,
            request.facilitator_id,
            request.network,
            request.transport,
            measure,
        )
    for p in placements.values():
        cell = (p.campaign_id, p.facilitator_id, p.network, p.transport)
        add(p.matched_at, *cell, "placements")
        add(p.delivered_at, *cell, "deliveries")
        add(p.impression_at, *cell, "impressions")
        add(p.clicked_at, *cell, "clicks")
    for conversion in Conversion.objects.all():
        p = placements[conversion.placement_id]
        add(
            conversion.converted_at,
            p.campaign_id,
            p.facilitator_id,
            p.network,
            p.transport,
            "conversions",
        )
    for charge in Charge.objects.all():
        p = placements[charge.placement_id]
        cell = (charge.campaign_id, charge.facilitator_id, p.network, p.transport)
        add(charge.created_at, *cell, "billed_millis", charge.amount_millis)
        add(charge.created_at, *cell, "unbilled_millis", charge.unbilled_millis)
    for event in SettlementEvent.objects.all():
        p = placements.get(event.placement_id)
        add(
            event.received_at,
            p.campaign_id if p else None,
            event.facilitator_id,
            event.network,
            p.transport if p else "",
            "settlement_events",
        )
    return {
        key: {m: n for m, n in counts.items() if n}
        for key, counts in cells.items()
        if any(counts.values())
    }


def expected_invalid(day: dt.date) -> dict:
    lower, upper = clock.day_bounds(day)
    placements = {p.id: p for p in Placement.objects.all()}
    cells: Counter = Counter()
    for row in InvalidTraffic.objects.all():
        if not lower <= row.occurred_at < upper:
            continue
        p = placements.get(row.placement_id)
        cell = (
            row.campaign_id,
            row.facilitator_id,
            p.network if p else "",
            p.transport if p else "",
            row.source,
            row.reason,
        )
        cells[("hour", _hour(row.occurred_at), *cell)] += 1
        cells[("day", lower, *cell)] += 1
    return dict(cells)


def rolled_traffic(day: dt.date) -> dict:
    lower, upper = clock.day_bounds(day)
    rows = TrafficRollup.objects.filter(start__gte=lower, start__lt=upper)
    result = {}
    for row in rows:
        key = (
            row.granularity,
            row.start,
            row.campaign_id,
            row.facilitator_id,
            row.network,
            row.transport,
        )
        assert key not in result, f"two rollup rows for one cell: {key}"
        result[key] = {m: getattr(row, m) for m in MEASURES if getattr(row, m)}
    return result


def rolled_invalid(day: dt.date) -> dict:
    lower, upper = clock.day_bounds(day)
    result = {}
    for row in InvalidTrafficRollup.objects.filter(start__gte=lower, start__lt=upper):
        key = (
            row.granularity,
            row.start,
            row.campaign_id,
            row.facilitator_id,
            row.network,
            row.transport,
            row.source,
            row.reason,
        )
        assert key not in result, f"two invalid rollup rows for one cell: {key}"
        result[key] = row.count
    return result


def snapshot() -> list[tuple]:
    traffic_rows = TrafficRollup.objects.values_list(
        "granularity",
        "start",
        "campaign_id",
        "facilitator_id",
        "network",
        "transport",
        *MEASURES,
    )
    invalid_rows = InvalidTrafficRollup.objects.values_list(
        "granularity",
        "start",
        "campaign_id",
        "facilitator_id",
        "network",
        "transport",
        "source",
        "reason",
        "count",
    )
    return sorted(map(str, traffic_rows)) + sorted(map(str, invalid_rows))


@pytest.fixture
def three_days(db, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    for day in (DAY1, DAY2, DAY3):
        traffic.day_of_traffic(world, day)
    return world


def test_every_rollup_equals_a_direct_count_over_the_raw_rows(three_days):
    services.roll_up_range(start=DAY1, end=DAY3 + dt.timedelta(days=1), now=three_days.clock.now)
    for day in (DAY1, DAY2, DAY3):
        expected = expected_traffic(day)
        assert rolled_traffic(day) == expected
        assert rolled_invalid(day) == expected_invalid(day)
        # Hourly rows add up to the daily row of every cell.
        assert any(key[0] == "hour" for key in expected)
    # The traffic exercised every measure and several kinds of invalid traffic, including
    # rows with no campaign (unanswered requests) and no facilitator (forged beacons).
    totals = selectors.totals(selectors.ReportFilter(start=DAY1, end=DAY3 + dt.timedelta(days=1)))
    assert all(totals[m] > 0 for m in MEASURES), totals
    assert TrafficRollup.objects.filter(campaign__isnull=True, matches_unanswered__gt=0).exists()
    reasons = set(InvalidTrafficRollup.objects.values_list("reason", flat=True))
    assert {
        "duplicate_impression",
        "duplicate_click",
        "other_facilitator",
        "forged_token",
    } <= reasons
    assert InvalidTrafficRollup.objects.filter(facilitator__isnull=True).exists()
    assert Charge.objects.filter(unbilled_millis__gt=0).exists()


def test_rebuilding_a_period_again_changes_nothing(three_days):
    end = DAY3 + dt.timedelta(days=1)
    services.roll_up_range(start=DAY1, end=end, now=three_days.clock.now)
    first = snapshot()
    services.roll_up_range(start=DAY1, end=end, now=three_days.clock.now)
    services.roll_up_day(day=DAY2, now=three_days.clock.now)
    assert snapshot() == first
    assert services.compare(DAY1, end) == []


def test_a_day_rebuilt_after_late_events_is_corrected(db, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1)
    # A settlement observed late on DAY1 whose attribution has not run yet, and the
    # placement it converts.
    late = world.clock.at(start_of(DAY2) - dt.timedelta(minutes=20))
    payer = traffic.evm_address(0xBEEF)
    placed = traffic.match(
        world,
        0,
        url=traffic.PAID["cpa"],
        payer=payer,
        network=traffic.BASE,
        transport="mcp",
        tx_hash=traffic.tx(7001),
    )
    assert placed["matched"]
    world.clock.at(late + dt.timedelta(minutes=10))
    traffic.match(
        world,
        0,
        url=traffic.RECOMMENDED["cpa"],
        payer=payer,
        network=traffic.BASE,
        transport="mcp",
        tx_hash=traffic.tx(7002),
    )
    other = traffic.evm_address(0xF00D)
    reported = traffic.match(
        world,
        1,
        url=traffic.PAID["hybrid"],
        payer=other,
        network=traffic.BASE,
        transport="a2a",
        tx_hash=traffic.tx(7003),
    )
    assert reported["matched"]
    # Just after midnight, DAY1 is rolled up one last time...
    after_midnight = world.clock.at(start_of(DAY2) + dt.timedelta(seconds=30))
    services.roll_up_today(now=after_midnight)
    before = rolled_traffic(DAY1)
    assert before == expected_traffic(DAY1)
    # ...and then the attribution task gets to that settlement: a conversion that happened
    # on DAY1 (its charge is booked on DAY2), and a facilitator's report of another one.
    billing.attribute_pending(now=start_of(DAY2) + dt.timedelta(minutes=2))
    traffic.report(
        world,
        1,
        token=reported["impressionToken"],
        original=traffic.tx(7003),
        conversion=traffic.tx(7004),
        payer=other,
        network=traffic.BASE,
        url=traffic.RECOMMENDED["hybrid"],
        occurred_at=late + dt.timedelta(minutes=12),
        at=start_of(DAY2) + dt.timedelta(minutes=3),
    )
    assert Conversion.objects.filter(source="report").count() == 1
    assert Conversion.objects.filter(converted_at__lt=start_of(DAY2)).count() > sum(
        row.get("conversions", 0) for key, row in before.items() if key[0] == "day"
    )
    assert services.compare(DAY1, DAY2) != []
    # The periodic rebuild of closed days puts it right.
    services.roll_up_recent(now=start_of(DAY2) + dt.timedelta(minutes=10))
    assert rolled_traffic(DAY1) == expected_traffic(DAY1)
    assert rolled_traffic(DAY1) != before
    assert services.compare(DAY1, DAY2) == []


def test_roll_up_today_also_closes_yesterday_once_after_midnight(db, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1, slots=5)
    services.roll_up_day(day=DAY1, now=start_of(DAY1) + dt.timedelta(hours=6))
    calls = []
    real = services.roll_up_day
    monkeypatch.setattr(services, "roll_up_day", lambda **kw: calls.append(kw["day"]) or real(**kw))
    services.roll_up_today(now=start_of(DAY2) + dt.timedelta(seconds=20))
    services.roll_up_today(now=start_of(DAY2) + dt.timedelta(seconds=80))
    assert calls == [DAY1, DAY2, DAY2]


def test_todays_minute_run_counts_only_its_last_hours_again(db, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1)  # 01:00 to about 03:00, then holds released at 05:00
    midnight = start_of(DAY1)
    counted = []
    real = services.count

    def recording(start, end, **kwargs):
        counted.append((start - midnight, end - midnight))
        return real(start, end, **kwargs)

    monkeypatch.setattr(services, "count", recording)
    services.roll_up_day(day=DAY1, now=midnight + dt.timedelta(hours=2, minutes=10))
    state = RollupState.objects.get(day=DAY1)
    assert state.hours_closed_until == midnight + dt.timedelta(hours=2)
    day = dt.timedelta(days=1)
    # Beat was stopped from 02:10 to 05:30: the hours since 02:00 were never counted after
    # they ended, so they are counted now; 00:00 and 01:00 come from their hourly rows.
    for minute, since in ((330, 2), (345, 4), (370, 5), (371, 5)):
        services.roll_up_today(now=midnight + dt.timedelta(minutes=minute))
        assert counted[-1] == (dt.timedelta(hours=since), day), minute
        # Daily and hourly rows both equal a direct count of every raw row.
        assert rolled_traffic(DAY1) == expected_traffic(DAY1), minute
        assert rolled_invalid(DAY1) == expected_invalid(DAY1), minute
    # The first run of a day, with nothing counted yet, counts the whole day.
    RollupState.objects.filter(day=DAY1).delete()
    services.roll_up_today(now=midnight + dt.timedelta(minutes=372))
    assert counted[-1] == (dt.timedelta(0), day)
    assert rolled_traffic(DAY1) == expected_traffic(DAY1)


def test_an_event_late_for_a_closed_hour_waits_for_the_whole_day_run(db, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1)
    midnight = start_of(DAY1)
    services.roll_up_today(now=midnight + dt.timedelta(hours=5, minutes=30))
    placement = Placement.objects.order_by("matched_at").first()
    late = InvalidTraffic.objects.create(
        source="event",
        reason="other_facilitator",
        occurred_at=midnight + dt.timedelta(hours=1, minutes=30),
        placement=placement,
        campaign_id=placement.campaign_id,
        facilitator_id=placement.facilitator_id,
    )
    services.roll_up_today(now=midnight + dt.timedelta(hours=5, minutes=31))
    # Hour 01:00 was last counted at 05:30: the minute run does not read it again...
    assert rolled_invalid(DAY1) != expected_invalid(DAY1)
    assert rolled_traffic(DAY1) == expected_traffic(DAY1)
    # ...the whole-day run (every 10 minutes) counts it, hourly and daily rows alike...
    services.roll_up_recent(now=midnight + dt.timedelta(hours=5, minutes=35))
    assert rolled_invalid(DAY1) == expected_invalid(DAY1)
    # ...and later minute runs carry it on from the hourly rows.
    services.roll_up_today(now=midnight + dt.timedelta(hours=5, minutes=36))
    assert rolled_invalid(DAY1) == expected_invalid(DAY1)
    key = (
        "day",
        midnight,
        late.campaign_id,
        late.facilitator_id,
        placement.network,
        placement.transport,
        "event",
        "other_facilitator",
    )
    assert rolled_invalid(DAY1)[key] >= 1


def test_a_rebuild_that_fails_part_way_leaves_the_previous_rows(three_days, monkeypatch):
    services.roll_up_day(day=DAY2, now=three_days.clock.now)
    before, state = snapshot(), RollupState.objects.get(day=DAY2)

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed mid-rebuild")

    monkeypatch.setattr(InvalidTrafficRollup.objects, "bulk_create", crash)
    with pytest.raises(RuntimeError):
        services.roll_up_day(day=DAY2, now=three_days.clock.now + dt.timedelta(hours=1))
    assert snapshot() == before
    assert RollupState.objects.get(day=DAY2).as_of == state.as_of


def test_hourly_rows_are_kept_for_recent_days_only(three_days, settings):
    settings.REPORTS_HOURLY_DAYS = 2
    now = start_of(DAY3) + dt.timedelta(hours=6)
    services.roll_up_range(start=DAY1, end=DAY3 + dt.timedelta(days=1), now=now)
    hourly_days = {
        clock.utc_day(start)
        for start in TrafficRollup.objects.filter(granularity=Granularity.HOUR).values_list(
            "start", flat=True
        )
    }
    assert hourly_days == {DAY2, DAY3}
    assert (
        TrafficRollup.objects.filter(granularity=Granularity.DAY).dates("start", "day").count() == 3
    )


def test_reconciliation_reports_a_difference_and_rebuilds_the_day(three_days):
    end = DAY3 + dt.timedelta(days=1)
    services.roll_up_range(start=DAY1, end=end, now=three_days.clock.now)
    row = TrafficRollup.objects.filter(
        granularity="day", start=start_of(DAY2), billed_millis__gt=0
    ).first()
    TrafficRollup.objects.filter(pk=row.pk).update(billed_millis=row.billed_millis + 7)
    InvalidTrafficRollup.objects.filter(granularity="day", start=start_of(DAY1)).delete()
    check = services.reconcile_rollups(now=start_of(end) + dt.timedelta(minutes=30), days=5)
    raw_billed = sum(
        c.amount_millis for c in Charge.objects.all() if clock.utc_day(c.created_at) == DAY2
    )
    assert {
        "day": DAY2.isoformat(),
        "measure": "billed_millis",
        "rollup": raw_billed + 7,
        "raw": raw_billed,
    } in check.differences
    assert any(
        d["day"] == DAY1.isoformat() and d["measure"] == "invalid_traffic"
        for d in check.differences
    )
    assert check.rebuilt == [DAY1.isoformat(), DAY2.isoformat()]
    assert check.remaining == [] and check.ok
    assert rolled_traffic(DAY2) == expected_traffic(DAY2)
    assert rolled_invalid(DAY1) == expected_invalid(DAY1)


def test_reconciliation_keeps_what_a_rebuild_cannot_fix(three_days, monkeypatch):
    """A rollup build that loses rows is a bug, not late data: it stays reported."""
    end = DAY3 + dt.timedelta(days=1)
    real = services.count

    def loses_clicks(start, end, **kwargs):
        counted, invalid = real(start, end, **kwargs)
        for measures in counted.values():
            measures["clicks"] = 0
        return counted, invalid

    monkeypatch.setattr(services, "count", loses_clicks)
    services.roll_up_range(start=DAY1, end=end, now=three_days.clock.now)
    check = services.reconcile_rollups(now=start_of(end), days=5)
    assert not check.ok
    assert {d["measure"] for d in check.remaining} == {"clicks"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rebuilds_of_one_day_take_turns(monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1, slots=10)
    services.roll_up_day(day=DAY1, now=world.clock.now)
    expected = snapshot()
    errors = []
    barrier = threading.Barrier(4)

    def rebuild():
        try:
            barrier.wait()
            for _ in range(5):
                services.roll_up_day(day=DAY1, now=world.clock.now)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rebuild) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert snapshot() == expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_day_lock_that_cannot_be_released_goes_with_its_session():
    """Connections outlive requests and tasks (CONN_MAX_AGE): a failed unlock must not leave
    the day locked for the next rebuild, in this process or another."""
    from django.db import DatabaseError, connection

    def refuse_unlock(execute, sql, params, many, context):
        if "pg_advisory_unlock" in sql:
            raise DatabaseError("connection lost")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_unlock), services._day_lock(DAY1):
        pass
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [services.LOCK_CLASS, DAY1.toordinal()]
            )
            assert cursor.fetchone() == (True,)
    finally:
        other.close()
