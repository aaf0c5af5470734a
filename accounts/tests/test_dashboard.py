"""The advertiser dashboard: default and refused ranges, grouped charts and rates, pacing
only where it applies, conversions billed for themselves in words, CSV, hourly drill-down."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AdvertiserMembership
from adnet.core import clock
from billing.models import Conversion
from campaigns.models import Campaign
from reports import services
from reports.models import Granularity, TrafficRollup
from reports.tests import traffic
from tests import factories

pytestmark = [pytest.mark.django_db]
URL = "/admin/campaigns/campaign/dashboard/"


def sign_in(client, advertiser):
    user = get_user_model().objects.create_user(
        f"user-{advertiser.pk}", password="pw-long-enough-1", is_staff=True
    )
    AdvertiserMembership.objects.create(user=user, advertiser=advertiser)
    client.force_login(user)


@pytest.fixture
def mine(client):
    advertiser = factories.AdvertiserFactory()
    sign_in(client, advertiser)
    return advertiser


def rollup(campaign, facilitator, start, granularity=Granularity.DAY, **measures):
    TrafficRollup.objects.create(
        granularity=granularity,
        start=start,
        campaign=campaign,
        facilitator=facilitator,
        network="eip155:8453",
        transport="http",
        **measures,
    )


def test_starts_with_the_last_14_days_filled_in(client, mine):
    today = clock.utc_day(clock.now())
    html = client.get(URL).content.decode()
    start = today - dt.timedelta(days=13)
    assert f'name="start" value="{start.isoformat()}"' in html
    assert f'name="end" value="{(today + dt.timedelta(days=1)).isoformat()}"' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=2020-01-01", "start", "At most 366 days at once."),
        ("start=2026-03-10&end=2026-03-01", "end", "Must be after the start day."),
        ("end=0001-01-01", "end", "Ensure this value is greater than or equal to 1970-01-01."),
    ],
)
def test_bad_ranges_are_refused_as_the_reports_refuse_them(client, mine, query, field, message):
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    reports = client.__class__()
    reports.force_login(staff)
    assert message in reports.get(f"/admin/reports/?{query}").content.decode()
    page = client.get(f"{URL}?{query}")
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html and 'id="kpis"' not in html
    exported = client.get(f"{URL}?{query}&export=csv")
    assert exported.status_code == 400
    error = json.loads(exported.content)["error"]
    assert error["code"] == "validation_error" and error["details"][field] == [message]


def test_funnel_is_grouped_with_rates_and_an_honest_empty_state(client, mine):
    campaign = factories.CampaignFactory(advertiser=mine, name="Dash me")
    empty = client.get(URL).content.decode()
    assert "No placements in these days yet." in empty
    spend_chart = re.search(r'<svg[^>]*aria-label="Spend per UTC day.*?</svg>', empty).group(0)
    assert spend_chart.count("0 USDC") == 1  # the empty axis says zero once
    assert "No spend in this period yet." in spend_chart
    today = clock.day_bounds(clock.utc_day(clock.now()))[0]
    rollup(
        campaign,
        factories.FacilitatorFactory(),
        today,
        placements=36,
        impressions=30,
        clicks=6,
        conversions=4,
        billed_millis=30 * 4_000_000,  # 30 impressions at 4 USDC CPM
    )
    html = client.get(URL).content.decode()
    assert "No placements in these days yet." not in html
    # Side by side on the scale of the tallest bar (36 -> 50), not a stack of 76 (-> 100).
    assert ">50</text>" in html and ">100</text>" not in html
    assert "20.0%" in html  # CTR: 6 clicks of 30 impressions
    assert "4.00" in html  # eCPM: 0.12 USDC over 30 impressions, per thousand
    assert "0.03" in html  # cost per conversion: 0.12 / 4


def test_pacing_only_for_active_evenly_paced_campaigns(client, mine):
    factories.CampaignFactory(advertiser=mine, name="Drafty", status=Campaign.Status.DRAFT)
    factories.CampaignFactory(advertiser=mine, name="Even", pacing=Campaign.Pacing.EVEN)
    html = client.get(URL).content.decode()
    rows = dict(re.findall(r"<tr><td>(Drafty|Even)</td><td>[^<]*</td><td>([^<]*)</td>", html))
    assert rows["Drafty"] == "Not delivering (Draft)"
    assert rows["Even"].startswith("On or behind the even line (")
    assert rows["Even"].endswith(" USDC due by now)")
    assert re.search(r"\(\d+\.\d{6} USDC due", rows["Even"])


def test_a_conversion_shows_what_it_billed_itself_and_its_status_in_words(client, monkeypatch):
    day = dt.date(2026, 3, 9)
    world = traffic.make_world(monkeypatch, traffic.start_of(day))
    traffic.day_of_traffic(world, day)
    services.roll_up_range(start=day, end=day + dt.timedelta(days=1), now=world.clock.now)
    hybrid = world.campaigns["hybrid"]
    sign_in(client, hybrid.advertiser)
    # An http placement of a hybrid campaign bills its impression (CPM); its conversion
    # billed nothing itself, whatever the placement's impression cost.
    converted = Conversion.objects.filter(campaign=hybrid, placement__transport="http")
    assert converted.exists()
    assert {c.placement.billed_millis for c in converted} == {4000}
    html = client.get(f"{URL}?start={day}&end={day + dt.timedelta(days=1)}").content.decode()
    table = html[html.index('id="dashboard-conversions"') :].split("</table>")[0]
    assert "unbilled" not in table and "awaiting_evidence" not in table
    billed = dict(re.findall(r"<td>([^<]+)</td><td class=\"num\">([^<]*)</td>", table))
    assert billed == {"Billed": "0.004000", "Delivered but not billed": "0.000000"}


def test_csv_and_hourly_drill_down_of_one_campaign(client, mine):
    campaign = factories.CampaignFactory(advertiser=mine, name="Hourly")
    other = factories.CampaignFactory(advertiser=mine, name="Other")
    facilitator = factories.FacilitatorFactory()
    today = clock.utc_day(clock.now())
    midnight = clock.day_bounds(today)[0]
    for c, n in ((campaign, 7), (other, 3)):
        rollup(c, facilitator, midnight, placements=n, impressions=n, billed_millis=n * 1000)
    rollup(
        campaign,
        facilitator,
        midnight + dt.timedelta(hours=5),
        granularity=Granularity.HOUR,
        placements=7,
        impressions=7,
        billed_millis=7000,
    )
    listed = client.get(f"{URL}?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(listed.streaming_content).decode())))
    assert rows[0][:3] == ["Campaign", "Status", "Placements"]
    assert [(r[0], r[2]) for r in rows[1:]] == [("Hourly", "7"), ("Other", "3")]
    assert rows[1][rows[0].index("CTR")] == "0.0%"
    # No conversions to divide by: an empty cell, not '-.
    assert rows[1][rows[0].index("Cost per conversion (USDC)")] == ""
    drill = client.get(f"{URL}?campaign={campaign.pk}&day={today}")
    html = drill.content.decode()
    assert drill.status_code == 200 and 'id="dashboard-hours"' in html
    assert "Other" not in html[html.index('id="dashboard-campaigns"') :].split("</table>")[0]
    hours = client.get(f"{URL}?campaign={campaign.pk}&day={today}&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(hours.streaming_content).decode())))
    assert len(rows) == 25 and rows[0][0] == "Hour (UTC)"
    assert rows[6][:2] == ["05:00", "7"] and rows[7][:2] == ["06:00", "0"]


def test_another_advertisers_campaign_cannot_be_drilled_into(client, mine):
    theirs = factories.CampaignFactory(name="Theirs")
    response = client.get(f"{URL}?campaign={theirs.pk}")
    assert response.status_code == 400
    assert "Theirs" not in response.content.decode()
