"""The campaign list in headless Chromium at 1,280 px: every column visible without
scrolling sideways, for an operator (who also gets the advertiser column) (`make test-browser`)."""

import pytest
from django.contrib.auth import get_user_model

from campaigns.models import Campaign
from tests import factories
from tests.support.browser import ARTIFACTS, launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-operator-password"


def test_campaign_list_fits_1280_pixels(live_server):
    from playwright.sync_api import sync_playwright

    get_user_model().objects.create_superuser("op", password=PASSWORD)
    advertiser = factories.AdvertiserFactory(name="Acme Weather and Climate Data")
    for n in range(3):
        campaign = factories.CampaignFactory(
            advertiser=advertiser,
            name=f"Hourly forecasts for agents, spring promotion {n}",
            budget_total=1_234_567_890_000,
            budget_daily=98_765_432_100,
        )
        Campaign.objects.filter(pk=campaign.pk).update(spent_millis=123_456_789_012_345)
    shot = ARTIFACTS / "operator-campaign-list-1280.png"
    shot.unlink(missing_ok=True)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{live_server.url}/admin/login/?next=/admin/campaigns/campaign/")
            page.fill("#id_username", "op")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/campaigns/campaign/")
            # The table's own scroll box (Django's .results) counts, not only the page's.
            overflow = page.evaluate(
                "Math.max(document.documentElement.scrollWidth"
                " - document.documentElement.clientWidth,"
                " ...[...document.querySelectorAll('.results')]"
                ".map(e => e.scrollWidth - e.clientWidth))"
            )
            headers = page.locator("#result_list thead th").all_text_contents()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    assert overflow <= 0, f"{overflow} px wider than the window"
    for header in ("Status", "Spent today", "Spent in total", "Pacing", "Placements", "CTR"):
        assert any(header in text for text in headers), header
    assert shot.stat().st_size > 2_000
