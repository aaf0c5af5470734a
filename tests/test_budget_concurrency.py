"""The budget invariant under real concurrency: threads, PostgreSQL row locks, no mocks."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient

from campaigns.models import Campaign, MatchRequest, Placement
from tests.factories import CampaignFactory, evm_address
from tests.support.journal import written

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CALLS = 200
WORKERS = 40


def fire_matches(key: str, calls: int = CALLS) -> list[dict]:
    """`calls` match requests from distinct payers, released together from a barrier."""
    barrier = threading.Barrier(WORKERS)

    def call(i: int) -> dict:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        if i < WORKERS:
            barrier.wait()
        try:
            response = client.post(
                "/v1/match",
                {
                    "resourceUrl": "https://api.example.com/v1/quote",
                    "network": "eip155:8453",
                    "payerWallet": evm_address(0x5000 + i),
                    "settledAmount": "10000",
                },
                format="json",
            )
            assert response.status_code == 200, response.content
            return response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(call, range(calls)))


@pytest.mark.parametrize("strategy", ["cpa", "cpm"])
def test_total_budget_covers_exactly_k_placements(facilitator_key, strategy):
    k = 37
    bid = 1000
    hold = bid * 1000 if strategy == "cpa" else bid
    budget_total_millis = k * hold
    campaign = CampaignFactory(
        bid_strategy=strategy,
        max_bid_amount=bid,
        budget_total=budget_total_millis // 1000,
        budget_daily=budget_total_millis // 1000,
    )
    answers = fire_matches(facilitator_key)

    assert sum(a["matched"] for a in answers) == k
    campaign.refresh_from_db()
    written()
    assert Placement.objects.filter(campaign=campaign).count() == k
    assert campaign.held_millis == k * hold
    assert campaign.held_millis + campaign.spent_millis <= campaign.budget_total * 1000
    assert MatchRequest.objects.count() == CALLS
    assert MatchRequest.objects.filter(matched=True).count() == k


def test_daily_budget_covers_exactly_k_placements(facilitator_key):
    k = 23
    campaign = CampaignFactory(max_bid_amount=1000, budget_total=1_000_000, budget_daily=k * 1000)
    answers = fire_matches(facilitator_key)

    assert sum(a["matched"] for a in answers) == k
    campaign.refresh_from_db()
    assert campaign.day_held_millis == k * 1_000_000
    assert campaign.day_held_millis + campaign.day_spent_millis <= campaign.budget_daily * 1000
    written()
    assert Placement.objects.count() == k


def test_two_campaigns_share_the_load_without_overrun(facilitator_key):
    a = CampaignFactory(max_bid_amount=1000, budget_total=11_000, budget_daily=11_000)
    b = CampaignFactory(max_bid_amount=1000, budget_total=7_000, budget_daily=7_000)
    answers = fire_matches(facilitator_key, calls=100)

    assert sum(x["matched"] for x in answers) == 18
    for campaign, k in ((a, 11), (b, 7)):
        campaign.refresh_from_db()
        assert campaign.held_millis == k * 1_000_000
        written()
        assert Placement.objects.filter(campaign=campaign).count() == k


def test_pause_takes_effect_for_concurrent_matches(facilitator_key):
    campaign = CampaignFactory(max_bid_amount=1000)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)
    answers = fire_matches(facilitator_key, calls=50)
    assert not any(a["matched"] for a in answers)
    campaign.refresh_from_db()
    assert campaign.held_millis == 0
