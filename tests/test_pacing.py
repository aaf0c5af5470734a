"""Even pacing spreads a daily budget over the UTC day; asap may spend it at once."""

import datetime as dt
import random

import pytest

from campaigns import services
from campaigns.models import Campaign, Placement
from tests.factories import CampaignFactory, FacilitatorFactory, evm_address, settlement
from tests.support.journal import written

DAY = dt.datetime(2026, 5, 4, tzinfo=dt.UTC)
URL = "https://api.example.com/v1/quote"


def match_at(facilitator, now, payer):
    return services.match_settlement(
        facilitator_id=facilitator.id,
        settlement=settlement(URL, evm_address(payer)),
        settled_amount=1,
        now=now,
        rng=random.Random(0),
    ).placement


def test_paced_limit_follows_the_clock(settings):
    settings.PACING_LOOKAHEAD_SECONDS = 0
    campaign = Campaign(budget_daily=86_400, pacing=Campaign.Pacing.EVEN)
    assert services.paced_limit(campaign, DAY) == 0
    assert services.paced_limit(campaign, DAY + dt.timedelta(hours=6)) == 86_400 * 1000 // 4
    assert (
        services.paced_limit(campaign, DAY + dt.timedelta(hours=23, minutes=59, seconds=59))
        == 86_400 * 1000 - 1000
    )
    settings.PACING_LOOKAHEAD_SECONDS = 900
    assert services.paced_limit(campaign, DAY + dt.timedelta(hours=23, minutes=50)) == 86_400 * 1000
    assert services.paced_limit(Campaign(budget_daily=10, pacing="asap"), DAY) is None


@pytest.mark.django_db
def test_even_pacing_spreads_placements_over_the_day(settings):
    settings.PACING_LOOKAHEAD_SECONDS = 0
    facilitator = FacilitatorFactory()
    # Four placements a day: one per six hours.
    CampaignFactory(
        pacing="even",
        max_bid_amount=1000,
        budget_daily=4000,
        budget_total=100_000,
        schedule_start=DAY - dt.timedelta(days=1),
    )
    placed = {}
    payer = 0
    for hour in range(0, 24):
        now = DAY + dt.timedelta(hours=hour, minutes=1)
        for _ in range(3):
            payer += 1
            if match_at(facilitator, now, payer) is not None:
                placed[hour] = placed.get(hour, 0) + 1
    assert placed == {6: 1, 12: 1, 18: 1}  # the 4th fits only at midnight + 24h
    written()
    assert Placement.objects.count() == 3


@pytest.mark.django_db
def test_asap_may_spend_the_day_at_once(settings):
    facilitator = FacilitatorFactory()
    CampaignFactory(
        pacing="asap",
        max_bid_amount=1000,
        budget_daily=4000,
        budget_total=100_000,
        schedule_start=DAY - dt.timedelta(days=1),
    )
    results = [match_at(facilitator, DAY + dt.timedelta(minutes=1), p) for p in range(1, 7)]
    assert [r is not None for r in results] == [True] * 4 + [False] * 2
