"""Holds that can no longer bill go back to the budget, exactly once; ended campaigns complete."""

import datetime as dt

import pytest
from django.utils import timezone

from billing import services as billing
from billing import tasks as billing_tasks
from campaigns import tasks
from campaigns.models import Campaign, Placement
from tests.factories import CampaignFactory, evm_address
from tests.support.journal import lent, written


def place(client, payer_n: int) -> dict:
    answer = client.post(
        "/v1/match",
        {
            "resourceUrl": "https://api.example.com/v1/quote",
            "network": "eip155:8453",
            "payerWallet": evm_address(payer_n),
            "settledAmount": "10000",
        },
        format="json",
    ).json()
    written()  # as the worker does within a second
    return answer


def release(now) -> int:
    """Attribution first: conversion-billed holds wait until every settlement is checked."""
    billing.attribute_pending(now=now)
    return billing.release_expired_holds(now=now)


@pytest.fixture(autouse=True)
def _no_evidence_grace(settings):
    settings.EVIDENCE_GRACE_SECONDS = 0


def _next_utc_midnight() -> dt.datetime:
    today = timezone.now().date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)  # journal entries leave Redis on commit
@pytest.mark.parametrize(
    "released_at",
    [
        lambda: timezone.now() + dt.timedelta(seconds=611),  # past the window and the margin
        # The release runs after midnight (a late worker): today's refill pause goes too.
        lambda: _next_utc_midnight() + dt.timedelta(seconds=611),
    ],
    ids=["same-day", "after-midnight"],
)
def test_expired_holds_are_released_once_and_free_the_budget(facilitator_client, released_at):
    campaign = CampaignFactory(
        max_bid_amount=1000, budget_total=2000, budget_daily=2000, attribution_window_seconds=600
    )
    assert place(facilitator_client, 1)["matched"] and place(facilitator_client, 2)["matched"]
    assert place(facilitator_client, 3)["matched"] is False  # full

    later = released_at()
    assert release(later) == 2
    assert release(later) == 0  # idempotent
    campaign.refresh_from_db()
    assert (campaign.held_millis, campaign.day_held_millis) == (0, 0)
    written()
    assert set(Placement.objects.values_list("state", "hold_millis")) == {("expired", 0)}
    assert place(facilitator_client, 4)["matched"] is True


@pytest.mark.django_db
def test_holds_are_not_released_before_expiry(facilitator_client):
    CampaignFactory(attribution_window_seconds=600)
    place(facilitator_client, 1)
    assert release(timezone.now() + dt.timedelta(seconds=500)) == 0
    written()
    assert Placement.objects.get().hold_millis > 0


@pytest.mark.django_db
def test_cpm_placements_expire_with_the_beacon_lifetime(facilitator_client, settings):
    settings.IMPRESSION_TTL_SECONDS = 120
    CampaignFactory(bid_strategy="cpm", attribution_window_seconds=3600)
    place(facilitator_client, 1)
    written()
    placement = Placement.objects.get()
    assert (placement.expires_at - placement.matched_at).total_seconds() == 120


@pytest.mark.django_db(transaction=True)  # journal entries leave Redis on commit
def test_release_of_a_past_days_hold_leaves_todays_counters(facilitator_client):
    campaign = CampaignFactory(max_bid_amount=1000)
    place(facilitator_client, 1)
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    written()
    Placement.objects.update(hold_day=yesterday)
    release(timezone.now() + dt.timedelta(days=1))
    campaign.refresh_from_db()
    # What is left is the budget lent to Redis today, for the next placements.
    assert campaign.held_millis == lent(campaign)
    # Today's counter speaks of today only: yesterday's hold went back without touching it.
    assert campaign.day_held_millis == 1_000_000 + lent(campaign)


@pytest.mark.django_db(transaction=True)  # journal entries leave Redis on commit
def test_release_task_runs_the_service(facilitator_client):
    CampaignFactory(attribution_window_seconds=60)
    place(facilitator_client, 1)
    past = timezone.now() - dt.timedelta(seconds=10)
    written()
    Placement.objects.update(expires_at=past, release_at=past, attribution_deadline=past)
    billing.attribute_pending(now=timezone.now() + dt.timedelta(seconds=10))
    assert billing_tasks.release_expired_holds.apply().get() == 1


@pytest.mark.django_db
def test_ended_campaigns_complete():
    ended = CampaignFactory(
        schedule_start=timezone.now() - dt.timedelta(days=2),
        schedule_end=timezone.now() - dt.timedelta(seconds=1),
    )
    paused = CampaignFactory(
        status=Campaign.Status.PAUSED,
        schedule_start=timezone.now() - dt.timedelta(days=2),
        schedule_end=timezone.now() - dt.timedelta(seconds=1),
    )
    running = CampaignFactory()
    assert tasks.complete_ended_campaigns.apply().get() == 2
    statuses = {c.pk: c.status for c in Campaign.objects.all()}
    assert statuses[ended.pk] == statuses[paused.pk] == Campaign.Status.COMPLETED
    assert statuses[running.pk] == Campaign.Status.ACTIVE
