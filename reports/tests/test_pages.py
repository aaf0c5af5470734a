"""The admin report pages and their CSV exports: staff only, filtered, and in agreement."""

import csv
import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.http import StreamingHttpResponse
from django.test import Client

from billing.models import Conversion, InvalidTraffic
from campaigns.models import Campaign, MatchRequest, Placement
from reports import exports, services
from reports.tests import traffic
from reports.tests.traffic import start_of

DAY1 = dt.date(2026, 3, 9)
DAY2 = dt.date(2026, 3, 10)
END = DAY2 + dt.timedelta(days=1)
RANGE = f"start={DAY1}&end={END}"
PAGES = ["", "conversions/", "facilitators/", "invalid-traffic/", "placements/"]
CSVS = [
    "overview.csv",
    "traffic.csv",
    "conversions.csv",
    "facilitators.csv",
    "invalid-traffic.csv",
    "placements.csv",
]


class ReportTables(HTMLParser):
    """Every <table class="report-table"> of a page: rows of (text, href) cells."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._cell: list | None = None
        self._row: list | None = None
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "report-table" in (attrs.get("class") or ""):
            self._in_table = True
            self.tables.append([])
        elif self._in_table and tag == "tr":
            self._row = []
        elif self._in_table and tag == "td" and self._row is not None:
            self._cell = ["", ""]
        elif self._cell is not None and tag == "a":
            self._cell[1] = attrs.get("href", "")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append((self._cell[0].strip(), self._cell[1]))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table":
            self._in_table = False


def tables_of(response) -> list:
    parser = ReportTables()
    parser.feed(response.content.decode())
    return parser.tables


def csv_rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def two_days(db, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1)
    traffic.day_of_traffic(world, DAY2)
    services.roll_up_range(start=DAY1, end=END, now=world.clock.now)
    services.reconcile_rollups(now=world.clock.now, days=2)
    return world


@pytest.fixture
def staff(db) -> Client:
    user = get_user_model().objects.create_user("operator", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", [*PAGES, *CSVS])
def test_report_pages_are_for_staff_only(db, path):
    url = f"/admin/reports/{path}"
    assert Client().get(url).status_code == 302
    user = get_user_model().objects.create_user("someone", password="x", is_staff=False)
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", PAGES)
def test_every_report_page_renders_inside_the_admin(two_days, staff, path):
    response = staff.get(f"/admin/reports/{path}?{RANGE}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-filters"' in html
    assert "Django administration" in html or "adnet" in html  # the admin's own header
    assert 'href="/admin/reports/conversions/?' in html
    assert tables_of(response), "a report table"


def test_overview_shows_fill_rate_spend_charts_and_both_checks(two_days, staff):
    response = staff.get(f"/admin/reports/?{RANGE}")
    html = response.content.decode()
    requests = MatchRequest.objects.filter(received_at__lt=start_of(END))
    answered = requests.filter(matched=True).count()
    assert f"{answered / requests.count() * 100:.1f}%" in html
    assert html.count("<svg") >= 4  # requests, spend, outcomes, invalid by reason
    assert "Rollups vs raw rows" in html and "agree" in html
    assert "Budget counters vs ledger" in html
    campaigns_table = tables_of(response)[0]
    assert {row[0][0] for row in campaigns_table} <= set(
        Campaign.objects.values_list("name", flat=True)
    )


def test_conversions_page_and_its_csv_agree_row_for_row(two_days, staff):
    page = tables_of(staff.get(f"/admin/reports/conversions/?{RANGE}"))[0]
    exported = csv_rows(staff.get(f"/admin/reports/conversions.csv?{RANGE}"))
    header, rows = exported[0], exported[1:]
    assert "Original tx URL" in header and "Conversion tx URL" in header
    assert len(rows) == len(page) == Conversion.objects.count() > 3
    href_columns = {i for i, name in enumerate(header) if name.endswith(" URL")}
    for html_row, csv_row in zip(page, rows, strict=True):
        texts = [cell for i, cell in enumerate(csv_row) if i not in href_columns]
        links = [cell for i, cell in enumerate(csv_row) if i in href_columns]
        assert [text for text, _ in html_row] == texts
        assert [href for _, href in html_row if href] == [link for link in links if link]
    hashes = {row[header.index("Conversion tx")] for row in rows}
    assert hashes == set(Conversion.objects.values_list("conversion_tx_hash", flat=True))
    urls = {row[header.index("Conversion tx URL")] for row in rows}
    assert any(url.startswith("https://basescan.org/tx/0x") for url in urls)
    assert any(url.startswith("https://polygonscan.com/tx/0x") for url in urls)


def test_filters_narrow_the_rows(two_days, staff):
    facilitator = two_days.facilitators[0]
    exported = csv_rows(
        staff.get(f"/admin/reports/placements.csv?{RANGE}&facilitator_id={facilitator.id}")
    )
    assert len(exported) - 1 == Placement.objects.filter(facilitator=facilitator).count()
    exported = csv_rows(staff.get(f"/admin/reports/placements.csv?{RANGE}&transport=mcp"))
    assert len(exported) - 1 == Placement.objects.filter(transport="mcp").count()
    exported = csv_rows(
        staff.get(f"/admin/reports/conversions.csv?start={DAY2}&end={END}&network=eip155:137")
    )
    assert (
        len(exported) - 1
        == Conversion.objects.filter(network="eip155:137", converted_at__gte=start_of(DAY2)).count()
    )
    campaign = two_days.campaigns["cpa"]
    html = staff.get(f"/admin/reports/?{RANGE}&campaign_id={campaign.id}").content.decode()
    assert "Fill rate is not shown" in html
    advertiser = campaign.advertiser
    days = csv_rows(staff.get(f"/admin/reports/overview.csv?{RANGE}&advertiser_id={advertiser.id}"))
    placements = sum(int(row[days[0].index("Placements")]) for row in days[1:])
    assert placements == Placement.objects.filter(campaign=campaign).count()


def test_invalid_filters_are_explained(two_days, staff):
    response = staff.get(f"/admin/reports/conversions/?start={END}&end={DAY1}")
    assert response.status_code == 200
    assert "Must be after the start day." in response.content.decode()
    response = staff.get("/admin/reports/conversions.csv?network=not-a-network&campaign_id=x")
    assert response.status_code == 400
    assert b"network" in response.content and b"campaign_id" in response.content
    # A day the reports cannot count from: said on the page, and the inputs say the range.
    response = staff.get("/admin/reports/?end=0001-01-01")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1970-01-01." in page
    assert page.count('min="1970-01-01" max="9998-12-31"') == 2


def test_every_export_has_the_pages_columns_and_all_rows(two_days, staff):
    invalid = csv_rows(staff.get(f"/admin/reports/invalid-traffic.csv?{RANGE}"))
    assert invalid[0] == ["Reason", "Source", "Facilitator", "Campaign", "Count"]
    assert sum(int(row[-1]) for row in invalid[1:]) == InvalidTraffic.objects.count()
    days = csv_rows(staff.get(f"/admin/reports/overview.csv?{RANGE}"))
    assert [row[0] for row in days[1:]] == [DAY1.isoformat(), DAY2.isoformat()]
    cells = csv_rows(staff.get(f"/admin/reports/traffic.csv?{RANGE}"))
    assert sum(int(row[cells[0].index("Placements")]) for row in cells[1:]) == (
        Placement.objects.count()
    )
    facilitators = csv_rows(staff.get(f"/admin/reports/facilitators.csv?{RANGE}"))
    assert len(facilitators) == 3  # header and two facilitators


def test_exports_are_streamed_in_chunks(two_days, staff, monkeypatch):
    monkeypatch.setattr(exports, "FLUSH_BYTES", 512)
    response = staff.get(f"/admin/reports/placements.csv?{RANGE}")
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) > 3
    assert len(b"".join(chunks).decode().splitlines()) == Placement.objects.count() + 1


def test_csv_cells_cannot_become_spreadsheet_formulas(two_days, staff):
    Campaign.objects.filter(pk=two_days.campaigns["cpa"].pk).update(name="=HYPERLINK(1)")
    rows = csv_rows(staff.get(f"/admin/reports/conversions.csv?{RANGE}"))
    names = {row[1] for row in rows[1:]}
    assert "'=HYPERLINK(1)" in names
    assert "=HYPERLINK(1)" not in names
