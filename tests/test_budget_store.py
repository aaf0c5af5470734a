"""The Redis budget store on real Redis and PostgreSQL: a flush only ever under-delivers,
caps and grants hold across it, and a catalog change reaches a process by its next match."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import F, Sum
from rest_framework.test import APIClient

from billing import services as billing
from campaigns import budget, catalog, grants, journal
from campaigns.models import (
    BudgetGrant,
    Campaign,
    CatalogVersion,
    MatchRequest,
    PayerDailyCount,
    Placement,
)
from tests.factories import CampaignFactory, evm_address
from tests.support.journal import lent

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BODY = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "settledAmount": "10000",
}


def flush() -> None:
    """Redis loses everything this test keeps in it (a FLUSHALL, scoped to the test)."""
    store = budget.store()
    keys = list(store.redis.scan_iter(match=f"{settings.BUDGET_REDIS_PREFIX}*", count=1000))
    if keys:
        store.redis.delete(*keys)


def match(key: str, n: int) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    try:
        response = client.post("/v1/match", {**BODY, "payerWallet": evm_address(n)}, format="json")
        assert response.status_code == 200, response.content
        return response.json()
    finally:
        connections.close_all()


def books_hold(campaign: Campaign) -> None:
    campaign.refresh_from_db()
    holds = Placement.objects.filter(campaign=campaign).aggregate(t=Sum("hold_millis"))["t"] or 0
    assert campaign.held_millis == holds + lent(campaign)
    assert campaign.spent_millis + campaign.held_millis <= campaign.budget_total * 1000
    assert holds <= campaign.budget_total * 1000
    assert billing.reconcile().mismatches == []


def test_a_flush_in_the_middle_of_concurrent_matches_never_overspends(facilitator_key, settings):
    k = 30
    campaign = CampaignFactory(max_bid_amount=1000, budget_total=k * 1000, budget_daily=k * 1000)
    settings.GRANT_MIN_HOLDS = 10  # several grants, so one is live when Redis goes
    barrier = threading.Barrier(9)

    def call(n: int) -> bool:
        if n == 40:
            barrier.wait()
            flush()
            return False
        if n < 8:
            barrier.wait()
        return match(facilitator_key, n)["matched"]

    with ThreadPoolExecutor(max_workers=9) as pool:
        answers = list(pool.map(call, range(120)))
    journal.drain()
    grants.reap()
    placed = Placement.objects.filter(campaign=campaign, hold_millis__gt=0).count()
    assert placed <= k
    assert sum(answers) >= placed  # answered placements lost with the journal never bill
    books_hold(campaign)
    # Every grant of the flushed store is closed at what reached PostgreSQL.
    old = BudgetGrant.objects.exclude(epoch=budget.current_epoch())
    assert not old.filter(closed_at=None).exists()
    assert not old.exclude(final_millis=F("used_millis")).exists()


def test_records_read_before_a_flush_and_written_after_carry_no_hold(facilitator_key):
    campaign = CampaignFactory(max_bid_amount=1000, budget_total=100_000, budget_daily=100_000)
    assert all(match(facilitator_key, n)["matched"] for n in range(3))
    store = budget.store()
    entries = store.redis.xrange(store.key("journal"))  # a drainer read them...
    flush()  # ...then Redis went away, and came back empty
    grants.reap()  # the grant is closed at what was written: nothing
    with __import__("django.db").db.transaction.atomic():
        journal._write(entries)  # the drainer finishes its batch
    placements = Placement.objects.filter(campaign=campaign)
    assert placements.count() == 3
    assert set(placements.values_list("hold_millis", "state")) == {(0, "expired")}
    books_hold(campaign)
    assert campaign.held_millis == 0


def test_the_frequency_cap_holds_across_a_flush(facilitator_key):
    campaign = CampaignFactory(frequency_cap=2, budget_total=100_000, budget_daily=100_000)
    assert [match(facilitator_key, 7)["matched"] for _ in range(3)] == [True, True, False]
    journal.drain()
    flush()  # Redis forgets today's count for this payer...
    assert match(facilitator_key, 7)["matched"] is True  # ...and answers once more
    journal.drain()  # but PostgreSQL's count catches it: that placement cannot bill
    held = Placement.objects.filter(campaign=campaign, hold_millis__gt=0).count()
    assert held == 2
    grants.reap()
    books_hold(campaign)


def test_after_a_flush_only_the_placements_past_the_cap_in_a_batch_lose_their_hold(
    facilitator_key,
):
    campaign = CampaignFactory(frequency_cap=3, budget_total=100_000, budget_daily=100_000)
    assert [match(facilitator_key, 7)["matched"] for _ in range(2)] == [True, True]
    journal.drain()
    flush()  # Redis forgets the payer's count...
    assert [match(facilitator_key, 7)["matched"] for _ in range(3)] == [True, True, True]
    journal.drain()  # ...and one batch takes PostgreSQL's count from 2 to 5, cap 3
    holds = list(
        Placement.objects.filter(campaign=campaign)
        .order_by("matched_at")
        .values_list("hold_millis", "state")
    )
    assert [hold > 0 for hold, _ in holds] == [True, True, True, False, False]
    assert [state for _, state in holds[3:]] == ["expired", "expired"]
    assert PayerDailyCount.objects.get(campaign=campaign).count == 5
    grants.reap()
    books_hold(campaign)


def test_a_catalog_change_made_elsewhere_reaches_this_process_by_its_next_match(
    facilitator_key,
):
    CatalogVersion.objects.get_or_create(pk=1)
    first = CampaignFactory(max_bid_amount=5000)
    second = CampaignFactory(max_bid_amount=1000)
    assert match(facilitator_key, 1)["campaignId"] == str(first.id)
    # Another process pauses the best campaign: its rows, version and Redis, not ours.
    Campaign.objects.filter(pk=first.pk).update(status=Campaign.Status.PAUSED)
    CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1)
    budget.publish_catalog_version(catalog.version())
    assert catalog._current is not None  # this process still has the old snapshot
    assert match(facilitator_key, 2)["campaignId"] == str(second.id)


def test_a_full_campaign_is_asked_again_only_after_a_pause(facilitator_key):
    """A campaign with no budget left does not cost a database query per request."""
    CampaignFactory(max_bid_amount=1000, budget_total=2000, budget_daily=2000)
    assert [match(facilitator_key, n)["matched"] for n in range(3)] == [True, True, False]
    grants_before = BudgetGrant.objects.count()
    assert [match(facilitator_key, n)["matched"] for n in range(3, 8)] == [False] * 5
    assert BudgetGrant.objects.count() == grants_before


def test_a_drain_reads_the_stream_in_short_pieces_and_writes_each_entry_once(
    facilitator_key, monkeypatch
):
    """Redis answers one command at a time: a batch is read a few entries per XRANGE, so
    no read holds it (and the matches behind it) long; pieces join without a gap or twice."""
    campaign = CampaignFactory(budget_total=10**6, budget_daily=10**6, max_bid_amount=1000)
    assert all(match(facilitator_key, n)["matched"] for n in range(7))
    store = budget.store()
    counts: list[int] = []
    xrange = store.redis.xrange

    def counting(name, min="-", max="+", count=None):
        counts.append(count)
        return xrange(name, min=min, max=max, count=count)

    monkeypatch.setattr(journal, "READ_CHUNK", 2)
    monkeypatch.setattr(store.redis, "xrange", counting)
    batches: list[int] = []
    write = journal._write
    monkeypatch.setattr(
        journal, "_write", lambda entries: batches.append(len(entries)) or write(entries)
    )
    assert journal.drain(limit=5) == 7
    assert batches == [5, 2]
    assert counts and max(counts) <= 2
    assert Placement.objects.filter(campaign=campaign).count() == 7
    assert MatchRequest.objects.filter(uid__in=Placement.objects.values("id")).count() == 7
    assert xrange(store.key("journal")) == []


def test_a_drain_removes_the_batch_it_wrote_and_nothing_recorded_meanwhile(
    facilitator_key, monkeypatch
):
    campaign = CampaignFactory(budget_total=100_000, budget_daily=100_000)
    assert all(match(facilitator_key, n)["matched"] for n in range(3))
    store = budget.store()
    stream = store.key("journal")
    write = journal._write
    late: list[str] = []

    def write_while_a_match_is_recorded(entries):
        write(entries)
        if not late:  # a match answered while the batch is being written
            late.append(store.redis.xadd(stream, store.redis.xrange(stream, count=1)[0][1]))

    monkeypatch.setattr(journal, "_write", write_while_a_match_is_recorded)
    assert journal.drain(limit=10) == 3
    assert Placement.objects.filter(campaign=campaign).count() == 3
    left = store.redis.xrange(stream)
    assert [entry_id for entry_id, _ in left] == late  # trimmed up to the batch, no further
    monkeypatch.undo()
    assert journal.drain() == 1  # the same request again: written once (by its id)
    assert Placement.objects.filter(campaign=campaign).count() == 3
    assert store.redis.xlen(stream) == 0


def test_the_id_after_a_stream_id():
    assert journal._after(b"1795261446464-0") == "1795261446464-1"
    assert journal._after("17-41") == "17-42"
