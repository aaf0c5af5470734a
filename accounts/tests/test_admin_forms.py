"""Admin forms validate as the API does, in words, and history records only real changes."""

import datetime as dt

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.tests.test_admin import advertiser_user, form_data
from campaigns.models import Advertiser, Campaign
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(client):
    advertiser = factories.AdvertiserFactory()
    client.force_login(advertiser_user(advertiser))
    return advertiser


@pytest.fixture
def operator(client):
    client.force_login(get_user_model().objects.create_superuser("op", password="pw-long-1x"))


def _day_and_time(moment: dt.datetime) -> tuple[str, str]:
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")


def edit_data(campaign: Campaign, **overrides) -> dict:
    start_day, start_time = _day_and_time(campaign.schedule_start)
    return form_data(schedule_start_0=start_day, schedule_start_1=start_time, **overrides)


def test_advertiser_form_refuses_what_the_api_refuses(client, operator, operator_client):
    bad = {"name": "Weather Co.", "wallet_address": "abc", "network": "base"}
    api = operator_client.post("/v1/advertisers", bad, format="json").json()["error"]["details"]
    response = client.post(reverse("admin:campaigns_advertiser_add"), bad)
    assert response.status_code == 200
    body = response.content.decode()
    assert api["network"][0].replace('"', "&quot;") in body
    assert not Advertiser.objects.exists()
    good = {**bad, "network": "eip155:8453", "wallet_address": "abc"}
    body = client.post(reverse("admin:campaigns_advertiser_add"), good).content.decode()
    api = operator_client.post("/v1/advertisers", good, format="json").json()["error"]["details"]
    assert api["wallet_address"][0] in body
    assert not Advertiser.objects.exists()
    mixed_case = "0x00000000000000000000000000000000000000AA"
    response = client.post(
        reverse("admin:campaigns_advertiser_add"), {**good, "wallet_address": mixed_case}
    )
    assert response.status_code == 302
    assert Advertiser.objects.get().wallet_address == mixed_case.lower()


@pytest.mark.parametrize("existing", [False, True])
def test_impossible_budget_and_schedule_in_words(client, mine, existing):
    start = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    end_day, end_time = _day_and_time(start - dt.timedelta(days=1))
    bad = {
        "budget_total": "10",
        "budget_daily": "20",
        "schedule_start_0": start.strftime("%Y-%m-%d"),
        "schedule_start_1": "12:00:00",
        "schedule_end_0": end_day,
        "schedule_end_1": end_time,
    }
    if existing:
        campaign = factories.CampaignFactory(advertiser=mine, name="Kept")
        url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    else:
        url = reverse("admin:campaigns_campaign_add")
    response = client.post(url, form_data(**bad))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Constraint" not in body and "is violated" not in body
    assert "Must not be more than the total budget." in body
    assert "Must be after the start." in body
    if existing:
        campaign.refresh_from_db()
        assert campaign.budget_total == 1_000_000_000
    else:
        assert not Campaign.objects.exists()


def test_saving_unchanged_records_nothing(client, mine):
    client.post(reverse("admin:campaigns_campaign_add"), form_data())
    campaign = Campaign.objects.get()
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    for _ in range(2):
        assert client.post(url, edit_data(campaign)).status_code == 302
    assert not LogEntry.objects.filter(object_id=str(campaign.pk), action_flag=CHANGE).exists()
    client.post(url, edit_data(campaign, target_networks_other="eip155:10\neip155:42161"))
    entry = LogEntry.objects.get(object_id=str(campaign.pk), action_flag=CHANGE)
    assert "Other networks" in entry.get_change_message()
    assert "Total budget" not in entry.get_change_message()


def test_total_below_spent_says_the_minimum_and_keeps_what_was_typed(client, mine):
    campaign = factories.CampaignFactory(advertiser=mine, budget_total=100_000_000)
    Campaign.objects.filter(pk=campaign.pk).update(spent_millis=40_000_000_000, held_millis=2_500)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = client.post(url, edit_data(campaign, budget_total="30", name="Renamed"))
    assert response.status_code == 200
    body = response.content.decode()
    # 40 USDC spent and 2.5 atomic units held: the least total is 40.000003 USDC.
    assert "at least 40.000003 USDC" in body
    assert 'value="30"' in body and 'value="Renamed"' in body
    campaign.refresh_from_db()
    assert campaign.budget_total == 100_000_000 and campaign.name != "Renamed"


def test_other_bad_fields_do_not_bring_back_constraint_names(client, mine):
    bad = form_data(
        max_bid_amount="",
        budget_total="10",
        budget_daily="20",
        schedule_end_0="2020-01-01",
        schedule_end_1="00:00:00",
    )
    body = client.post(reverse("admin:campaigns_campaign_add"), bad).content.decode()
    assert "is violated" not in body
    assert "Must not be more than the total budget." in body
    assert "Must be after the start." in body
    assert not Campaign.objects.exists()


def test_api_says_the_minimum_too(operator_client):
    campaign = factories.CampaignFactory(budget_total=100_000_000, budget_daily=10_000_000)
    Campaign.objects.filter(pk=campaign.pk).update(spent_millis=40_000_000_000)
    response = operator_client.patch(
        f"/v1/campaigns/{campaign.pk}", {"budget_total": "30000000"}, format="json"
    )
    assert response.status_code == 409
    assert "at least 40.000000 USDC" in response.json()["error"]["details"]["budget_total"][0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("target_categories", "\n".join(f"c{n}" for n in range(51)), "At most 50 items."),
        ("target_networks_other", "\n".join(f"eip155:{n}" for n in range(51)), "At most 50"),
        ("target_categories", "x" * 65, "at most 64 characters"),
        ("rec_resource_url", "http://sponsor.example.com/x", "https://"),
        ("attribution_window_seconds", "59", "between 60 seconds and 30 days"),
        ("frequency_cap", "10001", "between 1 and 10000"),
    ],
)
def test_list_and_range_limits_are_the_apis(client, mine, field, value, message):
    response = client.post(reverse("admin:campaigns_campaign_add"), form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Campaign.objects.exists()
