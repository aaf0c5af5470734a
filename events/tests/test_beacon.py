"""GET /v1/track/impression/<token>: one identical answer for every token, one impression."""

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connections
from django.test import Client
from django.utils import timezone

from billing.models import InvalidTraffic
from campaigns import tokens
from campaigns.models import LostPlacement, Placement
from events import services
from tests.factories import CampaignFactory, evm_address
from tests.support.journal import written


def matched(client, transport="http") -> dict:
    data = client.post(
        "/v1/match",
        {
            "resourceUrl": "https://api.example.com/v1/quote",
            "network": "eip155:8453",
            "payerWallet": evm_address(0x4242),
            "settledAmount": "10000",
            "transport": transport,
        },
        format="json",
    ).json()
    assert data["matched"] is True
    return data


def fire(url_or_token: str):
    path = url_or_token if url_or_token.startswith("/") else f"/v1/track/impression/{url_or_token}"
    return Client().get(path)


def headers(response) -> dict:
    """The answer's headers, but for the request id, which is new on every request anyway."""
    return {k: v for k, v in response.headers.items() if k != "X-Request-ID"}


def assert_standard_answer(response):
    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_valid_beacon_counts_one_impression(facilitator_client):
    CampaignFactory()
    match = matched(facilitator_client)
    path = match["impressionBeacon"].removeprefix("http://testserver")
    assert_standard_answer(fire(path))
    written()
    placement = Placement.objects.get()
    assert placement.impression_at is not None
    assert placement.state == Placement.State.IMPRESSION
    assert InvalidTraffic.objects.count() == 0


@pytest.mark.django_db
def test_repeated_beacon_answers_the_same_and_counts_nothing_more(facilitator_client):
    CampaignFactory()
    token = matched(facilitator_client)["impressionToken"]
    first = fire(token)
    written()
    counted_at = Placement.objects.get().impression_at
    second = fire(token)
    assert_standard_answer(first)
    assert_standard_answer(second)
    assert headers(first) == headers(second)
    assert Placement.objects.get().impression_at == counted_at
    record = InvalidTraffic.objects.get()
    assert (record.source, record.reason) == ("beacon", services.DUPLICATE_IMPRESSION)
    assert record.placement_id == Placement.objects.get().id


@pytest.mark.django_db
def test_forged_unknown_and_expired_tokens_get_the_same_answer(facilitator_client):
    CampaignFactory()
    real = matched(facilitator_client)["impressionToken"]
    written()
    placement = Placement.objects.get()
    unknown = tokens.encode(uuid.uuid4(), timezone.now() + dt.timedelta(hours=1))
    expired = tokens.encode(placement.id, timezone.now() - dt.timedelta(seconds=1))
    tampered = real[:-3] + ("AAA" if not real.endswith("AAA") else "BBB")
    answers = [fire(t) for t in ("garbage", unknown, expired, tampered, "x" * 300)]
    for answer in answers:
        assert_standard_answer(answer)
    assert len({tuple(sorted(headers(a).items())) for a in answers}) == 1
    reasons = sorted(InvalidTraffic.objects.values_list("reason", flat=True))
    assert reasons == sorted(
        [
            services.FORGED_TOKEN,
            services.EXPIRED_PLACEMENT,
            services.FORGED_TOKEN,
            services.FORGED_TOKEN,
        ]
    )
    # A token we signed for a placement PostgreSQL never received: the network's loss.
    assert LostPlacement.objects.get().source == LostPlacement.Source.BEACON
    assert Placement.objects.get().impression_at is None


@pytest.mark.django_db
def test_beacon_after_the_placement_expired_is_refused(facilitator_client):
    CampaignFactory()
    token = matched(facilitator_client)["impressionToken"]
    written()
    Placement.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_standard_answer(fire(token))
    assert Placement.objects.get().impression_at is None
    assert InvalidTraffic.objects.get().reason == services.EXPIRED_PLACEMENT


@pytest.mark.django_db
def test_beacon_for_an_mcp_placement_is_not_an_impression(facilitator_client):
    CampaignFactory()
    token = matched(facilitator_client, transport="mcp")["impressionToken"]
    assert_standard_answer(fire(token))
    written()
    assert Placement.objects.get().impression_at is None
    assert InvalidTraffic.objects.get().reason == services.WRONG_TRANSPORT


@pytest.mark.django_db
def test_beacon_answers_the_same_when_the_database_fails(facilitator_client, monkeypatch):
    def broken(**kwargs):
        raise OperationalError("database is down")

    monkeypatch.setattr(services, "record_beacon", broken)
    assert_standard_answer(fire("anything"))


@pytest.mark.django_db
def test_beacon_needs_no_key_and_refuses_writes():
    assert fire("anything").status_code == 204
    assert Client().post("/v1/track/impression/anything").status_code == 405


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_beacon_fired_1000_times_concurrently_counts_once(facilitator_client, settings):
    settings.BEACON_RATE = "100000/m"  # one test client address fires them all
    CampaignFactory()
    path = f"/v1/track/impression/{matched(facilitator_client)['impressionToken']}"
    connections.close_all()
    calls, workers = 1000, 40
    barrier = threading.Barrier(workers)

    def call(i: int) -> int:
        if i < workers:
            barrier.wait()
        try:
            return Client().get(path).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(call, range(calls)))
    assert set(statuses) == {204}
    assert Placement.objects.filter(impression_at__isnull=False).count() == 1
    duplicates = InvalidTraffic.objects.filter(reason=services.DUPLICATE_IMPRESSION).count()
    assert duplicates == calls - 1
