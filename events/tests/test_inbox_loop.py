"""Without a broker that carries a task per event (the embedded default), the inbox loop
processes what /v1/events accepted: nothing is queued, every claimable event is processed."""

import datetime as dt

import pytest
from django.utils import timezone

from adnet import loops
from events import services
from events.models import SettlementEvent
from events.tests.test_events_api import event_body, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_event_tasks(settings, monkeypatch):
    settings.EVENTS_VIA_BROKER = False
    published = []
    monkeypatch.setattr(
        "events.tasks.process_events.apply_async", lambda *a, **k: published.append(a)
    )
    return published


def test_accepted_events_wait_in_the_inbox_unqueued_then_the_loop_processes_them(
    facilitator_client, no_event_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as dispatched:
        for n in (1, 2, 3):
            assert send(facilitator_client, event_body(n)).status_code == 202
    assert len(dispatched) == 3  # the hook ran, and queued nothing
    assert no_event_tasks == []
    assert set(SettlementEvent.objects.values_list("status", flat=True)) == {"pending"}

    assert services.process_pending() == 3
    assert set(SettlementEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert services.process_pending() == 0  # done once


def test_the_loop_takes_expired_leases_and_leaves_live_ones_and_the_hopeless(
    facilitator_client, no_event_tasks, settings
):
    settings.EVENT_MAX_ATTEMPTS = 3
    for n in (1, 2, 3):
        send(facilitator_client, event_body(n))
    now = timezone.now()
    by_tx = SettlementEvent.objects.filter
    # 1: its worker died (lease over); 2: being processed now; 3: out of attempts.
    by_tx(tx_hash=event_body(1)["txHash"]).update(
        status="processing", lease_until=now - dt.timedelta(seconds=1), attempts=1
    )
    by_tx(tx_hash=event_body(2)["txHash"]).update(
        status="processing", lease_until=now + dt.timedelta(minutes=1), attempts=1
    )
    by_tx(tx_hash=event_body(3)["txHash"]).update(attempts=3)
    assert services.process_pending() == 1
    statuses = dict(SettlementEvent.objects.values_list("tx_hash", "status"))
    assert statuses == {
        event_body(1)["txHash"]: "processed",
        event_body(2)["txHash"]: "processing",
        event_body(3)["txHash"]: "pending",
    }


def test_the_inbox_loop_runs_only_where_events_are_not_queued(settings):
    inbox = {loop.name: loop for loop in loops.registry()}["process-event-inbox"]
    settings.EVENTS_VIA_BROKER = False
    assert inbox.enabled()
    settings.EVENTS_VIA_BROKER = True
    assert not inbox.enabled()
