"""The campaign list (delivery against budget) and the buttons on a campaign's page."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from accounts.tests.test_admin import advertiser_user
from campaigns.models import Campaign
from reports.models import Granularity, TrafficRollup
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(client):
    advertiser = factories.AdvertiserFactory()
    client.force_login(advertiser_user(advertiser))
    return advertiser


def test_list_shows_delivery_against_budget(client, mine, django_assert_max_num_queries):
    campaign = factories.CampaignFactory(
        advertiser=mine, name="Forecasts", budget_total=50_000_000, budget_daily=5_000_000
    )
    today = timezone.now().date()
    Campaign.objects.filter(pk=campaign.pk).update(
        spent_millis=7_500_000_000, day=today, day_spent_millis=2_500_000_000
    )
    facilitator = factories.FacilitatorFactory()
    for days_ago, clicks in ((0, 3), (1, 1)):
        TrafficRollup.objects.create(
            granularity=Granularity.DAY,
            start=dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(), dt.UTC),
            campaign=campaign,
            facilitator=facilitator,
            network="eip155:8453",
            transport="http",
            placements=50,
            impressions=40,
            clicks=clicks,
            conversions=2,
            billed_millis=3_750_000_000,
        )
    for n in range(5):
        factories.CampaignFactory(advertiser=mine, name=f"Other {n}")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:campaigns_campaign_changelist"))
    body = response.content.decode()
    row = body.split("Forecasts", 1)[1].split("</tr>", 1)[0]
    for text in (
        "2.500000 USDC",  # today's spend
        "of 5.000000 USDC",  # the daily budget
        "7.500000 USDC",  # total spent
        "of 50.000000 USDC",  # the total budget
        "Per conversion",  # the strategy, in words
        ">100<",  # placements
        "5.0%",  # CTR: 4 clicks of 80 impressions
        ">4<",  # conversions
        "1.875000 USDC",  # cost per conversion: 7.5 USDC over 4
        "50% of daily budget",  # pacing
    ):
        assert text in row, text
    # Advertiser users see their own campaigns only, so not the advertiser's name.
    assert mine.name not in row


def test_list_shows_every_amount_with_the_same_precision(client, mine):
    factories.CampaignFactory(advertiser=mine, max_bid_amount=2_500, budget_total=1_234_567_891)
    body = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "0.002500 USDC" in body and "1,234.567891 USDC" in body


def test_buttons_activate_pause_and_duplicate(client, mine):
    campaign = factories.CampaignFactory(advertiser=mine, status=Campaign.Status.DRAFT)
    page_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(page_url).content.decode()
    assert 'id="activate-button"' in page and 'id="pause-button"' not in page
    activate = reverse("admin:campaigns_campaign_activate", args=[campaign.pk])
    assert client.get(activate).status_code == 405
    assert client.post(activate)["Location"] == page_url
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    page = client.get(page_url).content.decode()
    assert 'id="pause-button"' in page and 'id="activate-button"' not in page
    client.post(reverse("admin:campaigns_campaign_pause", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    response = client.post(reverse("admin:campaigns_campaign_duplicate", args=[campaign.pk]))
    copy = Campaign.objects.get(name=f"{campaign.name} (copy)")
    assert copy.status == Campaign.Status.DRAFT and copy.advertiser == mine
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[copy.pk])
    history = LogEntry.objects.filter(object_id=str(campaign.pk)).values_list(
        "change_message", flat=True
    )
    assert sorted(history) == ["Activated", "Paused"]


def test_buttons_refuse_another_advertisers_campaign(client, mine):
    theirs = factories.CampaignFactory(status=Campaign.Status.ACTIVE)
    for verb in ("activate", "pause", "duplicate"):
        url = reverse(f"admin:campaigns_campaign_{verb}", args=[theirs.pk])
        assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Campaign.Status.ACTIVE
    assert Campaign.objects.count() == 1
