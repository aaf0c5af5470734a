"""/healthz, /readyz and /metrics say one thing: ok, degraded (which parts, why) or down."""

import datetime as dt
import threading
import time
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from adnet import health
from adnet.core import clock
from adnet.core.postgresql.base import DatabaseWrapper
from campaigns import budget
from reports.models import RollupState
from tests.support.frozen_proxy import FrozenProxy
from tests.test_metrics import scrape, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy(settings, tmp_path):
    """A deployment whose every part is fine: rollups just ran, an empty queue of its own,
    no journal waiting."""
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    cache.delete(health.QUEUE_SAMPLE_KEY)
    now = clock.now()
    RollupState.objects.create(
        day=clock.utc_day(now),
        as_of=now,
        finished_at=now,
        duration_ms=1,
        traffic_rows=0,
        invalid_rows=0,
    )
    return tmp_path


def queue_tasks(folder, n: int) -> None:
    for i in range(n):
        (folder / f"{i:05d}_{uuid.uuid4().hex}.msg").write_text("{}")


def probes() -> tuple[dict, int, dict]:
    """(the body of /healthz, the status of /readyz, the body of /readyz)"""
    live = Client().get("/healthz")
    assert live.status_code == 200
    ready = Client().get("/readyz")
    return live.json(), ready.status_code, ready.json()


def test_all_parts_fine_is_ok_everywhere(healthy):
    live, ready_status, ready = probes()
    assert live["status"] == "ok", live
    assert set(live["parts"]) >= {"database", "broker", "journal", "queue", "rollups"}
    assert all(p["status"] == "ok" for p in live["parts"].values())
    assert (ready_status, ready["status"]) == (200, "ok")
    samples = scrape()
    assert value(samples, "adnet_health") == 0
    assert value(samples, "adnet_health_part", part="rollups") == 0


def test_stale_rollups_make_it_degraded_not_ok(healthy):
    """Issue 34: /healthz said "ok" while its own rollups part said not ok."""
    RollupState.objects.update(as_of=clock.now() - dt.timedelta(seconds=600))
    live, ready_status, ready = probes()
    assert live["status"] == "degraded"
    rollups = live["parts"]["rollups"]
    assert rollups["status"] == "degraded"
    assert rollups["reason"] == "report rollups are 600 s behind"
    assert 600 <= rollups["lag_seconds"] < 610
    # Degraded is still ready: taking web out of the balancer would not fix it.
    assert (ready_status, ready["status"]) == (200, "degraded")
    samples = scrape()
    assert value(samples, "adnet_health") == 1
    assert value(samples, "adnet_health_part", part="rollups") == 1
    assert value(samples, "adnet_health_part", part="database") == 0


def test_rollups_that_never_ran_are_degraded(healthy):
    RollupState.objects.all().delete()
    live, _, _ = probes()
    assert live["parts"]["rollups"]["reason"] == "report rollups have not run yet"
    assert live["status"] == "degraded"


def test_a_long_queue_makes_it_degraded(healthy):
    """Issue 34: "ok" with 1,200 tasks waiting."""
    queue_tasks(healthy, 1200)
    live, ready_status, _ = probes()
    assert live["status"] == "degraded"
    assert live["parts"]["queue"]["reason"] == "1200 tasks wait for a worker"
    assert live["parts"]["queue"]["depth"] == 1200
    assert ready_status == 200
    samples = scrape()
    assert value(samples, "adnet_health_part", part="queue") == 1
    assert value(samples, "adnet_celery_queue_depth", queue="celery") == 1200


def test_a_growing_queue_makes_it_degraded(healthy):
    queue_tasks(healthy, 10)
    assert health.status().parts["queue"].status == health.OK  # keeps a first sample
    # A minute and a half later, 300 more tasks wait: 200 a minute, over the 100 allowed.
    when, depth, _ = cache.get(health.QUEUE_SAMPLE_KEY)
    cache.set(health.QUEUE_SAMPLE_KEY, (when - 90, depth, None))
    queue_tasks(healthy, 300)
    queue = health.status().parts["queue"]
    assert queue.status == health.DEGRADED
    growth = queue.details["growth_per_minute"]
    assert 195 <= growth <= 200
    assert queue.reason == f"the queue grows by {growth} tasks a minute"
    # The next probe, within the minute, still says so.
    assert health.status().parts["queue"].reason == queue.reason


@pytest.mark.redis
def test_a_lagging_journal_makes_it_degraded(healthy, settings):
    settings.MATCH_BUDGET_STORE = "redis"
    store = budget.store()
    stream = store.key("journal")
    assert health.status().parts["journal"].status == health.OK
    two_minutes_ago = int((time.time() - 120) * 1000)
    store.redis.xadd(stream, {"v": "1"}, id=f"{two_minutes_ago}-0")
    journal = health.status().parts["journal"]
    assert journal.status == health.DEGRADED
    assert journal.reason == "match records wait 120 s to reach the database"
    assert 120 <= journal.details["oldest_seconds"] < 125


@pytest.mark.redis
def test_an_unreachable_broker_is_down_and_not_ready(healthy, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    live, ready_status, ready = probes()
    assert live["status"] == "down"
    assert live["parts"]["broker"] == {
        "status": "down",
        "reason": "unreachable: ConnectionError",
        "kind": "redis",
    }
    # What reads the broker is not checked while it is down.
    assert live["parts"]["queue"]["reason"] == "not checked: broker is down"
    assert (ready_status, ready["status"]) == (503, "down")
    samples = scrape()
    assert value(samples, "adnet_health") == 2
    assert value(samples, "adnet_health_part", part="broker") == 2


@pytest.mark.postgres
def test_a_hung_database_is_down_within_the_probe_timeout(healthy, settings, monkeypatch):
    proxy = FrozenProxy(
        connection.settings_dict["HOST"] or "127.0.0.1",
        int(connection.settings_dict["PORT"] or 5432),
    )
    hung = DatabaseWrapper(
        {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port}, alias="hung"
    )
    try:
        hung.ensure_connection()
        monkeypatch.setattr(health, "connection", hung)
        proxy.freeze()
        thaw = threading.Timer(5.0, proxy.thaw)  # without a bound the probe waits for this
        thaw.start()
        started = time.monotonic()
        state = health.status()
        elapsed = time.monotonic() - started
        thaw.cancel()
    finally:
        hung.close()
        proxy.close()
    assert state.status == health.DOWN
    assert state.parts["database"].status == health.DOWN
    assert state.parts["database"].reason == "unreachable: OperationalError"
    assert state.parts["rollups"].reason == "not checked: database is down"
    assert elapsed < settings.HEALTH_PROBE_TIMEOUT_MS / 1000 + 0.5


def test_a_part_that_fails_to_check_is_degraded(healthy, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(health, "_CHECKS", [*health._CHECKS, health._Check("extra", broken, ())])
    state = health.status()
    assert state.parts["extra"] == health.Part(
        health.DEGRADED, "could not be checked: RuntimeError"
    )
    assert state.status == health.DEGRADED
