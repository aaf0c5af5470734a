"""The admin's structure: each person's home, the menu, and error pages in the admin's look."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import AdvertiserMembership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def advertiser_client(client):
    advertiser = factories.AdvertiserFactory()
    user = get_user_model().objects.create_user("ad", password="pw-long-enough-1", is_staff=True)
    AdvertiserMembership.objects.create(user=user, advertiser=advertiser)
    client.force_login(user)
    client.advertiser = advertiser
    return client


@pytest.fixture
def operator_client(client):
    client.force_login(get_user_model().objects.create_superuser("op", password="pw-long-1x"))
    return client


def menu_links(body: str) -> set[str]:
    menu = body.split('id="adnet-menu"', 1)[1].split("</nav>", 1)[0]
    return {part.split('"', 1)[0] for part in menu.split('href="')[1:]}


def test_advertisers_land_on_their_dashboard(advertiser_client):
    response = advertiser_client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_dashboard")


def test_operators_land_on_the_network_overview(operator_client):
    response = operator_client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:overview")
    assert operator_client.get(reverse("admin:tables")).status_code == 200


def test_advertiser_menu_reaches_their_pages_only(advertiser_client):
    body = advertiser_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    links = menu_links(body)
    assert links == {
        reverse("admin:campaigns_campaign_dashboard"),
        reverse("admin:campaigns_campaign_changelist"),
        reverse("admin:campaigns_campaign_preview"),
    }
    assert 'aria-current="page"' in body
    assert "View site" not in body


def test_operator_menu_reaches_every_page(operator_client):
    body = operator_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    links = menu_links(body)
    for name in (
        "reports:overview",
        "admin:campaigns_campaign_dashboard",
        "admin:campaigns_campaign_changelist",
        "admin:campaigns_campaign_preview",
        "admin:facilitators_facilitator_changelist",
        "admin:facilitators_apikey_changelist",
        "admin:tables",
    ):
        assert reverse(name) in links, name
    assert "View site" not in body
    # Every page the menu names opens.
    for link in links:
        assert operator_client.get(link).status_code == 200, link


def test_another_advertisers_campaign_is_an_admin_404(advertiser_client):
    theirs = factories.CampaignFactory()
    response = advertiser_client.get(reverse("admin:campaigns_campaign_change", args=[theirs.pk]))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Page not found" in body and 'id="adnet-menu"' in body
    assert theirs.name not in body


def test_reports_are_an_admin_403_for_advertisers(advertiser_client):
    response = advertiser_client.get(reverse("reports:overview"))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Not for this account" in body and 'id="adnet-menu"' in body


def test_the_api_keeps_its_json_404(client):
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
