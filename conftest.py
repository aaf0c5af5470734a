"""Shared pytest fixtures: API clients holding keys of each kind, and the service gates."""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from facilitators import services as facilitator_services
from tests import factories


def _has_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "adnet.core.postgresql"


def _has_redis() -> bool:
    return bool(settings.REDIS_URL)


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres/redis need the real service. In CI (ADNET_REQUIRE_SERVICES=1)
    a missing service is an error; on a laptop without them the tests are skipped, loudly."""
    required = os.environ.get("ADNET_REQUIRE_SERVICES") == "1"
    missing = {"postgres": not _has_postgres(), "redis": not _has_redis()}
    for marker, is_missing in missing.items():
        if not is_missing:
            continue
        if required and any(item.get_closest_marker(marker) for item in items):
            raise pytest.UsageError(
                f"tests marked {marker!r} selected but the service is not configured"
            )
        skip = pytest.mark.skip(reason=f"needs {marker}: set DATABASE_URL/REDIS_URL")
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_catalog():
    """Factories write campaigns and keys behind the services' back: start each test clean
    of per-process caches (the campaign catalog, API keys, key-use throttling)."""
    from campaigns import catalog, deployment
    from facilitators import selectors, services

    catalog.forget()
    deployment.forget()
    selectors.forget_cached_keys()
    services._last_recorded.clear()
    yield
    catalog.forget()
    selectors.forget_cached_keys()


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Counters in a shared Redis (rate limits) must not leak from one test into the next."""
    import uuid

    cache = dict(settings.CACHES["default"])
    cache["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    # Loops' last successes (adnet.core.heartbeats) in this process's memory, per test.
    loops = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": cache["KEY_PREFIX"],
    }
    settings.CACHES = {"default": cache, "loops": loops}
    # The budget store's keys too (grants, frequency counts, the match journal).
    prefix = f"test-{uuid.uuid4().hex}:"
    settings.BUDGET_REDIS_PREFIX = prefix
    yield
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        except redis.RedisError:
            pass  # a test that stopped Redis; its keys went with it
        finally:
            client.close()


@pytest.fixture(autouse=True)
def _celery_runs_inline(request, settings):
    """Tasks run in the test process unless a test asks for the real broker (fault tests)."""
    if request.node.get_closest_marker("real_broker"):
        yield
        return
    from adnet.celery import app

    # Events go through their task (inline) whatever the broker, as with Redis.
    settings.EVENTS_VIA_BROKER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


def client_with(key: str) -> APIClient:
    """A client with this key. Its POST /v1/match goes through the WSGI fast path, as on
    the production server (tests/support/fast.py); everything else through Django."""
    from tests.support.fast import FastPathClient

    client = FastPathClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def operator_client(db) -> APIClient:
    return client_with(facilitator_services.issue_operator_key(name="ops").api_key)


@pytest.fixture
def facilitator(db):
    return factories.FacilitatorFactory()


@pytest.fixture
def facilitator_key(facilitator) -> str:
    return facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id).api_key


@pytest.fixture
def facilitator_client(facilitator_key) -> APIClient:
    return client_with(facilitator_key)


@pytest.fixture
def advertiser(db):
    return factories.AdvertiserFactory()


@pytest.fixture
def advertiser_client(advertiser) -> APIClient:
    return client_with(
        facilitator_services.issue_advertiser_key(advertiser_id=advertiser.id).api_key
    )
