"""The advertiser admin: tenant isolation, USDC entry, actions, history, dashboard, preview,
and the operators' key issuance."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdvertiserMembership
from campaigns.models import Campaign
from facilitators.models import ApiKey, Facilitator
from reports.models import Granularity, TrafficRollup
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def advertiser_user(advertiser, name="ad-user"):
    user = get_user_model().objects.create_user(name, password="pw-long-enough-1", is_staff=True)
    AdvertiserMembership.objects.create(user=user, advertiser=advertiser)
    return user


@pytest.fixture
def mine(client):
    advertiser = factories.AdvertiserFactory()
    client.force_login(advertiser_user(advertiser))
    return advertiser


def form_data(**overrides):
    start = timezone.now().replace(microsecond=0)
    data = {
        "name": "Weather promo",
        "bid_strategy": "cpa",
        "max_bid_amount": "2.50",
        "budget_total": "100",
        "budget_daily": "10",
        "pacing": "even",
        "schedule_start_0": start.strftime("%Y-%m-%d"),
        "schedule_start_1": start.strftime("%H:%M:%S"),
        "attribution_window_seconds": "1800",
        "target_networks": ["eip155:8453"],
        "target_networks_other": "eip155:10",
        "target_transports": ["http", "mcp"],
        "target_url_patterns": "https://api.example.com/weather/*",
        "target_categories": "weather",
        "rec_resource_url": "https://sponsor.example.com/v1/forecast",
        "rec_description": "Better forecasts",
        "rec_sponsor_name": "Sponsor",
        "rec_price": "",
        "rec_currency": "",
        "rec_bazaar_id": "",
    }
    data.update(overrides)
    return data


def test_advertiser_creates_campaign_in_usdc(client, mine):
    response = client.post(reverse("admin:campaigns_campaign_add"), form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get()
    assert campaign.advertiser == mine
    assert campaign.max_bid_amount == 2_500_000
    assert campaign.budget_total == 100_000_000
    assert campaign.target_networks == ["eip155:8453", "eip155:10"]
    assert campaign.target_transports == ["http", "mcp"]
    assert campaign.status == Campaign.Status.DRAFT
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert 'value="2.50"' in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_bid_amount", "1.0000001", "at most 6 decimal places"),
        ("budget_total", "-1", "positive amount"),
        ("budget_daily", "1000", "not be more than the total budget"),
        ("target_url_patterns", "*", "leave the list empty"),
        ("target_networks_other", "base", "Not a network id"),
    ],
)
def test_form_errors_in_words(client, mine, field, value, message):
    response = client.post(reverse("admin:campaigns_campaign_add"), form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Campaign.objects.exists()


def test_another_advertisers_campaign_is_not_found(client, mine):
    theirs = factories.CampaignFactory()
    factories.CampaignFactory(advertiser=mine, name="Mine")
    assert (
        client.get(reverse("admin:campaigns_campaign_change", args=[theirs.pk])).status_code == 404
    )
    assert (
        client.get(reverse("admin:campaigns_campaign_history", args=[theirs.pk])).status_code == 404
    )
    listing = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "Mine" in listing and theirs.name not in listing
    # Actions only ever see the user's own queryset.
    client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "pause", "_selected_action": [str(theirs.pk)]},
    )
    theirs.refresh_from_db()
    assert theirs.status == Campaign.Status.ACTIVE


def test_advertisers_cannot_reach_network_reports_or_keys(client, mine):
    assert client.get(reverse("reports:overview")).status_code == 403
    assert client.get(reverse("admin:facilitators_apikey_changelist")).status_code == 403
    assert client.get(reverse("admin:facilitators_apikey_issue")).status_code == 403


def test_actions_and_history(client, mine):
    campaign = factories.CampaignFactory(advertiser=mine, status=Campaign.Status.DRAFT)
    url = reverse("admin:campaigns_campaign_changelist")
    client.post(url, {"action": "activate", "_selected_action": [str(campaign.pk)]})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    client.post(url, {"action": "pause", "_selected_action": [str(campaign.pk)]})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    client.post(url, {"action": "duplicate", "_selected_action": [str(campaign.pk)]})
    copy = Campaign.objects.get(name=f"{campaign.name} (copy)")
    assert copy.status == Campaign.Status.DRAFT and copy.advertiser == mine
    messages = list(
        LogEntry.objects.filter(object_id=str(campaign.pk)).values_list("change_message", flat=True)
    )
    assert messages == ["Paused", "Activated"] or sorted(messages) == ["Activated", "Paused"]


def test_edit_records_what_changed(client, mine):
    client.post(reverse("admin:campaigns_campaign_add"), form_data())
    campaign = Campaign.objects.get()
    response = client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        form_data(
            max_bid_amount="3",
            schedule_start_0=campaign.schedule_start.strftime("%Y-%m-%d"),
            schedule_start_1=campaign.schedule_start.strftime("%H:%M:%S"),
        ),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.max_bid_amount == 3_000_000
    entry = LogEntry.objects.filter(object_id=str(campaign.pk), action_flag=2).get()
    assert "2.50 → 3.00" in entry.get_change_message()


def _rollups(campaign, facilitator, day, n):
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    TrafficRollup.objects.create(
        granularity=Granularity.DAY,
        start=start,
        campaign=campaign,
        facilitator=facilitator,
        network="eip155:8453",
        transport="http",
        placements=n,
        impressions=n,
        clicks=1,
        conversions=1,
        billed_millis=2_500_000_000,
    )


def test_dashboard_reads_rollups_with_bounded_queries(client, mine, django_assert_max_num_queries):
    campaign = factories.CampaignFactory(advertiser=mine, name="Dash me")
    facilitator = factories.FacilitatorFactory()
    today = timezone.now().date()
    url = reverse("admin:campaigns_campaign_dashboard")
    with django_assert_max_num_queries(14):
        first = client.get(url)
    assert first.status_code == 200
    for n in range(10):
        _rollups(campaign, facilitator, today - dt.timedelta(days=n), 1000)
    with django_assert_max_num_queries(14):
        second = client.get(url)
    body = second.content.decode()
    assert "Dash me" in body and "svg" in body and "2.50" in body


def test_preview_explains_only_own_campaigns(client, mine):
    factories.CampaignFactory(
        advertiser=mine,
        name="Only weather",
        target_url_patterns=["https://api.example.com/weather/*"],
    )
    factories.CampaignFactory(name="Someone else")
    response = client.get(
        reverse("admin:campaigns_campaign_preview"),
        {
            "resource_url": "https://api.example.com/stocks",
            "network": "eip155:8453",
            "transport": "http",
        },
    )
    body = response.content.decode()
    assert "Only weather" in body and "matches none of its URL patterns" in body
    assert "Someone else" not in body


def test_operator_issues_keys_shown_once(client):
    operator = get_user_model().objects.create_superuser("op", password="pw-long-enough-1")
    client.force_login(operator)
    response = client.post(reverse("admin:facilitators_facilitator_register"), {"name": "fac-one"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(facilitator__name="fac-one")
    assert f"{key.prefix}_" in response.content.decode()
    advertiser = factories.AdvertiserFactory()
    response = client.post(
        reverse("admin:facilitators_apikey_issue"),
        {"kind": "advertiser", "advertiser": str(advertiser.pk), "name": "ads"},
    )
    assert ApiKey.objects.filter(kind="advertiser", advertiser_id=advertiser.pk).exists()
    listing = client.get(reverse("admin:facilitators_apikey_changelist")).content.decode()
    assert key.prefix in listing and f"{key.prefix}_" not in listing
    assert Facilitator.objects.filter(name="fac-one").exists()


def test_password_reset_is_linked_from_login(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert reverse("admin_password_reset") in page


def test_facilitators_are_suspended_not_deleted(client):
    operator = get_user_model().objects.create_superuser("op", password="pw-long-enough-1")
    client.force_login(operator)
    facilitator = factories.FacilitatorFactory()
    response = client.post(
        reverse("admin:facilitators_facilitator_delete", args=[facilitator.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    listing = client.get(reverse("admin:facilitators_facilitator_changelist")).content.decode()
    assert "delete_selected" not in listing
    response = client.post(
        reverse("admin:facilitators_facilitator_changelist"),
        {"action": "delete_selected", "_selected_action": [str(facilitator.pk)], "post": "yes"},
    )
    assert Facilitator.objects.filter(pk=facilitator.pk).exists()
    response = client.post(
        reverse("admin:facilitators_facilitator_change", args=[facilitator.pk]),
        {"name": facilitator.name, "status": "suspended"},
    )
    assert response.status_code == 302
    facilitator.refresh_from_db()
    assert facilitator.status == Facilitator.Status.SUSPENDED
