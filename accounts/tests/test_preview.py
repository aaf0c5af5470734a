"""The match preview: https addresses only, and the recommendation as an agent receives it."""

import html
import json
import re

import pytest
from adnet_facilitator.client import Match, Recommendation
from django.contrib.auth import get_user_model

from accounts.models import AdvertiserMembership
from campaigns import selectors
from tests import factories

pytestmark = [pytest.mark.django_db]
URL = "/admin/campaigns/campaign/preview/"


@pytest.fixture
def mine(client):
    advertiser = factories.AdvertiserFactory()
    user = get_user_model().objects.create_user("ad", password="pw-long-enough-1", is_staff=True)
    AdvertiserMembership.objects.create(user=user, advertiser=advertiser)
    client.force_login(user)
    return advertiser


@pytest.mark.parametrize(
    "url", ["ftp://x", "http://api.example.com/weather", "https://", "https://[::1"]
)
def test_only_https_addresses_are_previewed(client, mine, url):
    factories.CampaignFactory(advertiser=mine, name="Anything")
    response = client.get(URL, {"resource_url": url, "network": "eip155:8453", "transport": "http"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "https://" in page and 'id="preview-result"' not in page


def test_shows_the_extension_a_facilitator_injects_and_a_card(client, mine):
    campaign = factories.CampaignFactory(
        advertiser=mine,
        name="Forecasts",
        rec_resource_url="https://weather.example.net/v1/forecast",
        rec_description="Hourly forecasts <b>now</b>",
        rec_sponsor_name="Weather Co.",
        rec_bazaar_id="bz-1",
    )
    response = client.get(
        URL,
        {
            "resource_url": "https://api.example.com/stocks",
            "network": "eip155:8453",
            "transport": "http",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    shown = re.search(r'<pre class="preview-json"[^>]*>(.*?)</pre>', page, re.S).group(1)
    block = json.loads(html.unescape(shown))["sponsored-access"]
    # Exactly what the facilitator kit builds from our match answer (wire-contract §3).
    answer = Match(
        campaign_id=str(campaign.pk),
        recommendation=Recommendation(
            resource_url=campaign.rec_resource_url,
            description=campaign.rec_description,
            sponsor=campaign.rec_sponsor_name,
            bazaar_id="bz-1",
        ),
        impression_beacon=block["tracking"]["impressionBeacon"],
        conversion_resource=campaign.rec_resource_url,
        impression_token=None,
    )
    assert block == answer.sponsored_access()
    assert block["recommendations"] == [selectors.recommendation_of(campaign)]
    assert block["tracking"]["impressionBeacon"].startswith(
        "http://testserver/v1/track/impression/"
    )
    card = page[page.index('id="preview-card"') :].split("</div>")[0]
    assert "Sponsored" in card and "Weather Co." in card
    assert "Hourly forecasts &lt;b&gt;now&lt;/b&gt;" in card


def test_says_when_none_of_the_campaigns_would_answer(client, mine):
    factories.CampaignFactory(
        advertiser=mine, target_url_patterns=["https://api.example.com/weather/*"]
    )
    page = client.get(
        URL,
        {
            "resource_url": "https://api.example.com/stocks",
            "network": "eip155:8453",
            "transport": "http",
        },
    ).content.decode()
    assert 'id="preview-none"' in page and 'id="preview-json"' not in page
    assert "The URL matches none of its URL patterns" in page
