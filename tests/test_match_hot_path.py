"""The match hot path in steady state: no PostgreSQL query, one Redis round trip.

The client sends its matches through the WSGI fast path, as the production server does
(tests/support/fast.py).

Counted for real: every query Django sends, and every command any redis-py connection in
this process writes to a socket (a pipeline or a script is one write, one round trip).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.connection import AbstractConnection

from campaigns.models import CatalogVersion
from tests.factories import CampaignFactory, evm_address

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db]

BODY = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "settledAmount": "10000",
    "txHash": "0x" + "ab" * 32,
}


class RedisRoundTrips:
    """Counts packed commands written to Redis by any connection of this process."""

    def __init__(self, monkeypatch):
        self.count = 0
        original = AbstractConnection.send_packed_command

        def counting(conn, command, check_health=True):
            self.count += 1
            return original(conn, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)


def match(client, n: int) -> dict:
    response = client.post("/v1/match", {**BODY, "payerWallet": evm_address(n)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_steady_state_match_makes_no_query_and_one_redis_round_trip(
    facilitator_client, monkeypatch, settings
):
    # The key cache's 2 s would end mid-test on a machine that stalls: its refresh (one
    # query per key and process every API_KEY_CACHE_SECONDS) is not what is checked here.
    settings.API_KEY_CACHE_SECONDS = 3600
    for i in range(20):
        CampaignFactory(max_bid_amount=1000 + i, budget_total=10**9, budget_daily=10**8)
    CatalogVersion.objects.get_or_create(pk=1)
    # Warm up: the snapshot is built, the key cached, grants made, last use recorded.
    for n in range(5):
        assert match(facilitator_client, n)["matched"] is True
    trips = RedisRoundTrips(monkeypatch)
    for n in range(100, 130):
        before = trips.count
        with CaptureQueriesContext(connection) as queries:
            answer = match(facilitator_client, n)
        assert answer["matched"] is True
        assert [q["sql"] for q in queries.captured_queries] == []
        assert trips.count - before == 1
    assert facilitator_client.fast_answers == 35  # the production server's path answered


def test_the_counters_see_what_they_count(facilitator_client, monkeypatch):
    """The instruments themselves: a cold match (snapshot, key lookup, grant) shows up."""
    CampaignFactory()
    trips = RedisRoundTrips(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert match(facilitator_client, 1)["matched"] is True
    assert len(queries.captured_queries) > 0
    assert trips.count > 1


@pytest.mark.django_db(transaction=True)
def test_an_old_snapshot_serves_while_its_successor_is_built_in_the_background(monkeypatch):
    """Rebuilding takes 0.1 s per thousand campaigns: no match waits for an age refresh."""
    from adnet.core import clock
    from campaigns import catalog

    CampaignFactory()
    first = catalog.snapshot(clock.now())
    monkeypatch.setattr(catalog, "MAX_AGE_SECONDS", 0.0)  # every snapshot is old from now on
    CampaignFactory()  # not through the services: no new version, only a rebuild sees it
    assert catalog.snapshot(clock.now()) is first  # answered at once with what it had
    # snapshot() took the lock before it started the rebuild thread, which releases it last.
    assert catalog._background.acquire(timeout=10)  # the rebuild thread has finished
    catalog._background.release()
    assert catalog._current is not first
    assert len(catalog._current.rows) == 2
