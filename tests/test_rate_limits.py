"""Rate limits per API key on real Redis: 429 with Retry-After, one key never slows another;
the machine API fails open when the counter store is down, admin sign-in fails closed."""

import uuid
from types import SimpleNamespace

import pytest
from django.test import Client

from adnet.core import ratelimits
from conftest import client_with
from facilitators import services as facilitator_services
from tests.factories import FacilitatorFactory, evm_address

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

MATCH = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payerWallet": evm_address(1),
    "settledAmount": "1",
}


def facilitator_client():
    issued = facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id)
    return client_with(issued.api_key)


@pytest.fixture
def fresh_counters(settings):
    """Counters of this test only: a cache key prefix no other run shares."""
    cache = dict(settings.CACHES["default"])
    cache["KEY_PREFIX"] = f"ratelimit-test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": cache}


@pytest.fixture
def standing_clock(monkeypatch):
    """The counting windows' clock (ours and django-ratelimit's) stands 0.4 s into a minute
    and an hour, so no window ends between a test's requests."""
    import django_ratelimit.core

    standing = SimpleNamespace(time=lambda: 1_800_000_000.4)
    monkeypatch.setattr(ratelimits, "time", standing)
    monkeypatch.setattr(django_ratelimit.core, "time", standing)


def test_a_key_over_its_limit_gets_429_while_another_key_is_unaffected(
    settings, fresh_counters, monkeypatch
):
    # 0.4 s into a minute: the window resets in 59.6 s, which Retry-After rounds up to 60.
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: 1_800_000_000.4))
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "facilitator": "3/m"}
    key_a, key_b = facilitator_client(), facilitator_client()
    assert [key_a.post("/v1/match", MATCH, format="json").status_code for _ in range(3)] == [
        200,
        200,
        200,
    ]
    limited = key_a.post("/v1/match", MATCH, format="json")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited["Retry-After"] == "60"
    assert key_b.post("/v1/match", MATCH, format="json").status_code == 200


@pytest.mark.parametrize("raw", ['{"resourceUrl": "\\ud800"}', "[" * 100 + "]" * 100, "{"])
def test_refused_match_bodies_count_against_the_key(settings, fresh_counters, standing_clock, raw):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "facilitator": "3/m"}
    client = facilitator_client()
    refused = [
        client.post("/v1/match", raw, content_type="application/json").status_code for _ in range(3)
    ]
    assert refused == [400, 400, 400]
    assert client.post("/v1/match", MATCH, format="json").status_code == 429


def test_each_kind_of_key_has_its_own_limit(
    settings, fresh_counters, standing_clock, operator_client
):
    settings.API_RATE_LIMITS = {
        **settings.API_RATE_LIMITS,
        "operator": "2/m",
        "facilitator": "100/m",
    }
    assert [operator_client.get("/v1/campaigns").status_code for _ in range(3)] == [200, 200, 429]
    assert facilitator_client().post("/v1/match", MATCH, format="json").status_code == 200


def test_match_fails_open_when_the_counter_store_is_down(settings):
    # Counters live in Redis (and so does matching's budget step, which then falls back to
    # the database): a Redis that refuses connections.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "facilitator": "1/m"}
    client = facilitator_client()
    assert [client.post("/v1/match", MATCH, format="json").status_code for _ in range(3)] == [
        200,
        200,
        200,
    ]


def test_admin_sign_in_is_throttled_and_fails_closed(settings, fresh_counters, standing_clock):
    settings.ADMIN_LOGIN_RATE = "3/h"
    client = Client()
    statuses = [
        client.post("/admin/login/", {"username": "x", "password": "y"}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]  # 200: the form again, with its error
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    down = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert down.status_code == 503


def test_beacon_floods_get_the_usual_answer_but_do_not_count(
    settings, fresh_counters, standing_clock, facilitator_client
):
    from campaigns.models import Placement
    from tests.factories import CampaignFactory

    settings.BEACON_RATE = "2/m"
    CampaignFactory()
    tokens = [
        facilitator_client.post(
            "/v1/match", {**MATCH, "payerWallet": evm_address(n)}, format="json"
        ).json()["impressionToken"]
        for n in range(10, 13)
    ]
    answers = [Client().get(f"/v1/track/impression/{t}").status_code for t in tokens]
    assert answers == [204, 204, 204]
    assert Placement.objects.filter(impression_at__isnull=False).count() == 2
