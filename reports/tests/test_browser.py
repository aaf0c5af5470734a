"""The overview and conversions pages in headless Chromium, signed in as staff, with
screenshots saved under test-artifacts/ (`make test-browser`).

Debian's Chromium is driven by the `playwright` package; Playwright's own browser
downloads are never used. Playwright's sync API runs an event loop in this thread, so
every database query of the test happens before the browser starts or after it stops.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from billing.models import Conversion
from campaigns.models import MatchRequest
from reports import services
from reports.tests import traffic
from reports.tests.traffic import start_of
from tests.support.browser import ARTIFACTS, launch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY1 = dt.date(2026, 3, 9)
DAY2 = dt.date(2026, 3, 10)
RANGE = f"start={DAY1}&end={DAY2 + dt.timedelta(days=1)}"
PASSWORD = "a-long-operator-password"


def test_overview_and_conversions_pages_in_chromium(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1)
    traffic.day_of_traffic(world, DAY2)
    services.roll_up_range(start=DAY1, end=DAY2 + dt.timedelta(days=1), now=world.clock.now)
    services.reconcile_rollups(now=world.clock.now, days=3)
    get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)
    conversions = Conversion.objects.count()
    requests = MatchRequest.objects.count()
    first_facilitator = world.facilitators[0]
    own_conversions = Conversion.objects.filter(placement__facilitator=first_facilitator).count()
    assert 0 < own_conversions < conversions
    shots = [ARTIFACTS / "reports-overview.png", ARTIFACTS / "reports-conversions.png"]
    for shot in shots:
        shot.unlink(missing_ok=True)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"{live_server.url}/admin/login/?next=/admin/reports/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/reports/")

            page.goto(f"{live_server.url}/admin/reports/?{RANGE}")
            kpis = page.locator("#kpis")
            assert kpis.is_visible()
            assert f"{requests:,}" in kpis.inner_text()
            assert page.locator("svg.report-chart").count() >= 4
            assert page.locator("svg.report-chart rect").first.is_visible()
            assert "agree" in page.locator("#checks").inner_text()
            page.screenshot(path=str(shots[0]), full_page=True)

            page.click("text=Conversions")
            page.wait_for_url("**/admin/reports/conversions/**")
            rows = page.locator("table.report-table tbody tr")
            assert rows.count() == conversions
            assert page.locator("a[href^='https://basescan.org/tx/0x']").first.is_visible()
            assert page.locator("a[href^='https://polygonscan.com/tx/0x']").count() > 0
            page.screenshot(path=str(shots[1]), full_page=True)

            # Narrow to one facilitator with the filter form.
            page.select_option("#id_facilitator_id", str(first_facilitator.id))
            page.click("#report-filters input[type=submit]")
            page.wait_for_url(f"**facilitator_id={first_facilitator.id}**")
            assert page.locator("table.report-table tbody tr").count() == own_conversions
            # The export of the same filter downloads the same rows.
            with page.expect_download() as download:
                page.click("#csv-export")
            exported = Path(download.value.path()).read_text().splitlines()
            assert len(exported) == own_conversions + 1
        finally:
            browser.close()

    for shot in shots:
        assert shot.stat().st_size > 10_000, shot
