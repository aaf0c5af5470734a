"""Nothing stops the match journal: a record PostgreSQL refuses or nobody can decode is set
aside with its reason, and every other record of its batch is written."""

import dataclasses
import json
import time
import uuid

import pytest
from django.db import connections
from rest_framework.test import APIClient

from campaigns import budget, journal, selectors
from campaigns.models import JournalSetAside, MatchRequest, Placement
from tests.factories import CampaignFactory, evm_address

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BODY = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "settledAmount": "10000",
}


def match(key: str, n: int) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    try:
        response = client.post("/v1/match", {**BODY, "payerWallet": evm_address(n)}, format="json")
        assert response.status_code == 200, response.content
        return response.json()
    finally:
        connections.close_all()


def template(facilitator_key) -> dict:
    """The fields of one real placement's stream entry, as the match script wrote them."""
    CampaignFactory(budget_total=10_000_000, budget_daily=10_000_000, max_bid_amount=1000)
    assert match(facilitator_key, 1)["matched"]
    store = budget.store()
    [(_, fields)] = store.redis.xrange(store.key("journal"))
    return fields


def entry(fields: dict, **changes) -> dict:
    """A copy of a stream entry under a new request id, with the request fields changed."""
    request = journal.RequestRecord(
        **{k: v for k, v in json.loads(fields[b"r"]).items() if k != "v"}
    )
    request = dataclasses.replace(request, uid=uuid.uuid4().hex, **changes)
    return {**fields, b"r": request.encode()}


def append(fields: dict) -> None:
    store = budget.store()
    store.redis.xadd(store.key("journal"), fields)


def test_five_bad_records_among_a_thousand_are_set_aside_and_the_rest_written(facilitator_key):
    fields = template(facilitator_key)  # the first good record
    bad = [
        entry(fields, url="https://api.example.com/\ud800"),  # a lone surrogate
        entry(fields, facilitator=uuid.uuid4().hex),  # a facilitator this database lacks
        {**entry(fields), b"c": str(uuid.uuid4()).encode()},  # a campaign it lacks
        entry(fields, payer="0x" + "a" * 200),  # longer than its column
        {**fields, b"r": b"\xff\xfe\x00{not json"},  # bytes nobody can decode
    ]
    for n in range(2, 1001):  # 999 more good ones, the bad ones among them
        if n % 200 == 0:
            append(bad[n // 200 - 1])
        append(entry(fields, payer=evm_address(n)))

    started = time.monotonic()
    assert journal.drain() == 1005
    elapsed = time.monotonic() - started

    assert MatchRequest.objects.count() == 1000
    assert Placement.objects.count() == 1000
    reasons = sorted(JournalSetAside.objects.values_list("reason", flat=True))
    assert reasons == ["missing_row"] * 2 + ["refused"] * 2 + ["undecodable"]
    assert selectors.journal_set_aside_count() == 5
    assert "adnet_journal_set_aside 5.0" in APIClient().get("/metrics").content.decode()
    health = APIClient().get("/healthz").json()
    assert health["parts"]["set_aside"]["status"] == "degraded"
    assert health["parts"]["set_aside"]["last_hour"] == 5
    assert health["status"] in ("degraded", "down")
    store = budget.store()
    assert store.redis.xlen(store.key("journal")) == 0
    print(f"drained 1,005 records with 5 bad in {elapsed:.3f} s")
    assert elapsed < 2.0, elapsed
    # Matching and draining go on as before.
    assert match(facilitator_key, 5000)["matched"]
    assert journal.drain() == 1
    assert MatchRequest.objects.count() == 1001


def test_records_of_another_deployment_or_an_unknown_version_are_set_aside(facilitator_key):
    fields = template(facilitator_key)
    append(entry(fields, deployment=uuid.uuid4().hex))
    newer = json.loads(entry(fields)[b"r"])
    append({**fields, b"r": json.dumps({**newer, "v": 2})})
    append({**fields, b"d": b'{"v":1,"event":"conversion"}'})  # terms missing fields

    assert journal.drain() == 4
    assert MatchRequest.objects.count() == 1  # only the real one
    assert sorted(JournalSetAside.objects.values_list("reason", flat=True)) == [
        "other_deployment",
        "undecodable",
        "unknown_version",
    ]
    kept = JournalSetAside.objects.get(reason="unknown_version")
    assert b'"v": 2' in bytes(kept.raw)


def test_a_refused_record_drained_on_demand_does_not_fail_its_caller(facilitator_key):
    fields = template(facilitator_key)
    append(entry(fields, tx="f" * 130))  # longer than its column
    placement_id = uuid.UUID(json.loads(fields[b"r"])["uid"])
    assert journal.await_placement(placement_id)
    assert JournalSetAside.objects.filter(reason="refused").count() == 1
