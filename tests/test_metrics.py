"""GET /metrics: counters the requests move, gauges read from the database and the broker."""

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from adnet import metrics
from adnet.core import clock
from campaigns.models import Campaign
from events.models import SettlementEvent
from reports.models import RollupState
from tests.factories import CampaignFactory, evm_address

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def scrape(client=None, **extra) -> dict:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


def parse(text: str) -> dict:
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def match_body(n: int) -> dict:
    return {
        "resourceUrl": "https://api.example.com/v1/quote",
        "network": "eip155:8453",
        "payerWallet": evm_address(0x5000 + n),
        "settledAmount": "10000",
        "transport": "mcp",
    }


def test_requests_move_the_http_match_and_event_counters(facilitator_client):
    before = scrape()
    assert Client().get("/v1/ping").status_code == 200
    assert Client().get("/v1/ping").status_code == 200
    assert Client().get("/v1/no-such-thing").status_code == 404
    # One settlement finds nothing, then a campaign appears and the next one is matched.
    assert facilitator_client.post("/v1/match", match_body(1), format="json").json() == {
        "matched": False
    }
    CampaignFactory()
    from campaigns import catalog

    catalog.forget()
    assert facilitator_client.post("/v1/match", match_body(2), format="json").json()["matched"]
    event = {
        "txHash": "0x" + "ab" * 32,
        "network": "eip155:8453",
        "resource": {"url": "https://api.example.com/v1/quote"},
        "payer": evm_address(0x77),
        "settledAmount": "10000",
        "timestamp": "2026-01-01T00:00:00Z",
    }
    assert facilitator_client.post("/v1/events", event, format="json").status_code == 202
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    ping = {"route": "ping", "method": "GET"}
    assert delta("adnet_http_requests_total", status="200", **ping) == 2
    assert delta("adnet_http_request_duration_seconds_count", **ping) == 2
    assert delta("adnet_http_request_duration_seconds_sum", **ping) > 0
    assert delta("adnet_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert delta("adnet_http_requests_total", route="match", method="POST", status="200") == 2
    assert delta("adnet_match_requests_total", transport="mcp") == 2
    assert delta("adnet_match_matched_total", transport="mcp") == 1
    assert delta("adnet_events_accepted_total") == 1
    assert delta("adnet_http_requests_total", route="events", method="POST", status="202") == 1


def test_gauges_reflect_the_database(facilitator_client):
    for n in range(4):
        body = {
            "txHash": "0x" + f"{n:064x}",
            "network": "eip155:8453",
            "resource": {"url": "https://api.example.com/v1/quote"},
            "payer": evm_address(0x88),
            "settledAmount": "10000",
            "timestamp": "2026-01-01T00:00:00Z",
        }
        assert facilitator_client.post("/v1/events", body, format="json").status_code == 202
    ids = list(SettlementEvent.objects.order_by("id").values_list("id", flat=True))
    SettlementEvent.objects.filter(id__in=ids[:2]).update(status="processed")
    SettlementEvent.objects.filter(id=ids[2]).update(status="dead")
    SettlementEvent.objects.filter(id=ids[3]).update(status="pending")
    CampaignFactory.create_batch(2, status=Campaign.Status.EXHAUSTED)
    CampaignFactory()

    samples = scrape()
    assert value(samples, "adnet_events", status="processed") == 2
    assert value(samples, "adnet_events", status="dead") == 1
    assert value(samples, "adnet_events", status="pending") == 1
    assert ("adnet_events", (("status", "invalid"),)) in samples  # zero, but present
    assert value(samples, "adnet_campaigns_exhausted") == 2
    # Never rolled up: no lag sample at all (absent, which alerting can see).
    assert not any(name == "adnet_rollup_lag_seconds" for name, _ in samples)

    now = clock.now()
    RollupState.objects.create(
        day=clock.utc_day(now),
        as_of=now - dt.timedelta(seconds=300),
        finished_at=now,
        duration_ms=1,
        traffic_rows=0,
        invalid_rows=0,
    )
    lag = value(scrape(), "adnet_rollup_lag_seconds")
    assert 300 <= lag < 400


@pytest.mark.redis
def test_queue_depth_is_the_length_of_the_celery_list_in_redis(settings):
    import redis

    queue = f"metrics-test-{uuid.uuid4().hex}"
    settings.METRICS_CELERY_QUEUE = queue
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.rpush(queue, "a", "b", "c")
        assert value(scrape(), "adnet_celery_queue_depth", queue=queue) == 3
    finally:
        client.delete(queue)
    assert value(scrape(), "adnet_celery_queue_depth", queue=queue) == 0


def test_a_broken_broker_leaves_its_gauge_out_but_the_scrape_works(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    samples = scrape()
    assert not any(name == "adnet_celery_queue_depth" for name, _ in samples)
    assert any(name == "adnet_http_requests_total" for name, _ in samples)


def test_allowlist_restricts_metrics_to_listed_addresses(settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert Client().get("/metrics", REMOTE_ADDR="192.0.2.8").status_code == 403
    scrape(REMOTE_ADDR="10.20.30.40")
    scrape(REMOTE_ADDR="192.0.2.7")
    assert Client().post("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 405


def test_multiprocess_mode_sums_the_counters_of_every_worker_process(tmp_path, monkeypatch):
    """Two processes (like two uWSGI workers) count requests; a scrape sees both."""
    code = (
        "import django; django.setup()\n"
        "from adnet import metrics\n"
        "metrics.HTTP_REQUESTS.labels('ping', 'GET', '200').inc(3)\n"
        "metrics.record_match(transport='http', matched=True)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = parse(metrics.scrape().decode())
    ping = {"route": "ping", "method": "GET", "status": "200"}
    assert value(samples, "adnet_http_requests_total", **ping) == 6
    assert value(samples, "adnet_match_matched_total", transport="http") == 2
    assert value(samples, "adnet_match_requests_total", transport="http") == 2
    # The database gauges are still there, read by the scraping process.
    assert any(name == "adnet_events" for name, _ in samples)
