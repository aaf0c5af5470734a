"""An advertiser user in headless Chromium: sign in, create a campaign in USDC, activate it,
see it on the dashboard, and fail to open another advertiser's campaign (`make test-browser`).

Debian's Chromium through the `playwright` package; its own browser downloads are never
used. Database work happens before the browser starts or after it stops (see
reports/tests/test_browser.py for why).
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import AdvertiserMembership
from campaigns.models import Campaign
from tests import factories
from tests.support.browser import ARTIFACTS, launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-advertiser-password"


def test_advertiser_manages_own_campaign_in_chromium(live_server):
    from playwright.sync_api import sync_playwright

    mine = factories.AdvertiserFactory(name="Acme Weather")
    user = get_user_model().objects.create_user("acme", password=PASSWORD, is_staff=True)
    AdvertiserMembership.objects.create(user=user, advertiser=mine)
    theirs = factories.CampaignFactory(name="Rival campaign")
    names = [
        "advertiser-create",
        "advertiser-activated",
        "advertiser-dashboard",
        "advertiser-denied",
    ]
    shots = [ARTIFACTS / f"{name}.png" for name in names]
    for shot in shots:
        shot.unlink(missing_ok=True)
    base = live_server.url
    start = timezone.now() - dt.timedelta(minutes=5)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"{base}/admin/login/?next=/admin/campaigns/campaign/")
            page.fill("#id_username", "acme")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/campaigns/campaign/")
            assert "Rival campaign" not in page.content()

            page.goto(f"{base}/admin/campaigns/campaign/add/")
            page.fill("#id_name", "Forecasts for agents")
            page.fill("#id_max_bid_amount", "2.50")
            page.fill("#id_budget_total", "100")
            page.fill("#id_budget_daily", "10")
            page.fill("#id_schedule_start_0", start.strftime("%Y-%m-%d"))
            page.fill("#id_schedule_start_1", start.strftime("%H:%M:%S"))
            page.check("input[name=target_networks][value='eip155:8453']")
            page.check("input[name=target_transports][value='http']")
            page.fill("#id_target_url_patterns", "https://api.example.com/weather/*")
            page.fill("#id_rec_resource_url", "https://acme.example.com/v1/forecast")
            page.fill("#id_rec_description", "Hourly forecasts, paid per call")
            page.fill("#id_rec_sponsor_name", "Acme Weather")
            page.screenshot(path=str(shots[0]), full_page=True)
            page.click("input[name=_save]")
            page.wait_for_url("**/admin/campaigns/campaign/")
            assert "Forecasts for agents" in page.content()

            row = page.locator("tr", has_text="Forecasts for agents")
            row.locator("input.action-select").check()
            page.select_option("select[name=action]", "activate")
            page.click("button[name=index]")
            page.wait_for_load_state()
            assert "Activated Forecasts for agents" in page.content()
            assert "2.50" in page.locator("tr", has_text="Forecasts for agents").inner_text()
            page.screenshot(path=str(shots[1]), full_page=True)

            page.click("#dashboard-link")
            page.wait_for_url("**/dashboard/")
            table = page.locator("#dashboard-campaigns").inner_text()
            assert "Forecasts for agents" in table and "Active" in table
            assert "Rival campaign" not in table
            assert page.locator("svg.report-chart").count() >= 2
            page.screenshot(path=str(shots[2]), full_page=True)

            response = page.goto(f"{base}/admin/campaigns/campaign/{theirs.pk}/change/")
            assert response.status == 404
            assert "Rival campaign" not in page.content()
            page.screenshot(path=str(shots[3]), full_page=True)
        finally:
            browser.close()

    created = Campaign.objects.get(name="Forecasts for agents")
    assert created.advertiser_id == mine.id
    assert created.max_bid_amount == 2_500_000
    assert created.status == Campaign.Status.ACTIVE
    for shot in shots:
        assert shot.stat().st_size > 2_000, shot
