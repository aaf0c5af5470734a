"""GET /v1/reports/...: operator keys only, the error shape, pagination, and the same data
as the pages."""

import datetime as dt

import pytest
from django.test import Client

from billing.models import Charge, Conversion
from campaigns.models import MatchRequest, Placement
from reports import services
from reports.tests import traffic
from reports.tests.traffic import start_of

DAY1 = dt.date(2026, 3, 9)
DAY2 = dt.date(2026, 3, 10)
END = DAY2 + dt.timedelta(days=1)
RANGE = {"start": DAY1.isoformat(), "end": END.isoformat()}
ENDPOINTS = [
    "status",
    "overview",
    "traffic",
    "conversions",
    "placements",
    "facilitators",
    "invalid-traffic",
]


@pytest.fixture
def two_days(db, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    traffic.day_of_traffic(world, DAY1)
    traffic.day_of_traffic(world, DAY2)
    services.roll_up_range(start=DAY1, end=END, now=world.clock.now)
    return world


@pytest.mark.parametrize("name", ENDPOINTS)
def test_only_operator_keys_may_read_reports(
    db, name, operator_client, facilitator_client, advertiser_client
):
    url = f"/v1/reports/{name}"
    assert operator_client.get(url).status_code == 200
    for client in (facilitator_client, advertiser_client):
        response = client.get(url)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    response = Client().get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    response = operator_client.post(url, {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_bad_filters_get_the_validation_error_shape(db, operator_client):
    response = operator_client.get(
        "/v1/reports/conversions",
        {"start": "2026-03-10", "end": "2026-03-01", "transport": "smoke", "campaign_id": "x"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"end", "transport", "campaign_id"}
    response = operator_client.get("/v1/reports/placements", {"limit": 0})
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["details"]
    response = operator_client.get("/v1/reports/traffic", {"granularity": "week"})
    assert response.json()["error"]["details"] == {
        "granularity": ["Must be one of ['hour', 'day']."]
    }




REPORTS = ["overview", "traffic", "conversions", "placements", "facilitators", "invalid-traffic"]


@pytest.mark.parametrize("name", REPORTS)
def test_days_a_date_cannot_be_counted_from_are_refused_not_overflowed(
    db, operator_client, name
):
    # The default start is 30 days before the end; the end's bounds run a day past it.
    for query, field in [
        ({"end": "0001-01-01"}, "end"),
        ({"start": "9999-12-30", "end": "9999-12-31"}, "start"),
        ({"start": "1969-12-31"}, "start"),
    ]:
        response = operator_client.get(f"/v1/reports/{name}", query)
        assert response.status_code == 400, (query, response.content[:200])
        assert field in response.json()["error"]["details"]
    for query in [
        {"end": "1970-01-01"},
        {"start": "1970-01-01", "end": "1970-01-02"},
        {"start": "9998-12-30", "end": "9998-12-31", "granularity": "hour"},
    ]:
        assert operator_client.get(f"/v1/reports/{name}", query).status_code == 200, query

def test_overview_totals_equal_the_raw_rows(two_days, operator_client):
    data = operator_client.get("/v1/reports/overview", RANGE).json()
    requests = MatchRequest.objects.all()
    totals = data["totals"]
    assert totals["match_requests"] == requests.count()
    assert totals["matches_answered"] == requests.filter(matched=True).count()
    assert totals["fill_rate"] == pytest.approx(
        requests.filter(matched=True).count() / requests.count()
    )
    assert totals["placements"] == Placement.objects.count()
    assert totals["conversions"] == Conversion.objects.count()
    billed = sum(Charge.objects.values_list("amount_millis", flat=True))
    assert totals["billed_millis"] == str(billed)
    assert [day["day"] for day in data["days"]] == [DAY1.isoformat(), DAY2.isoformat()]
    assert sum(day["placements"] for day in data["days"]) == totals["placements"]
    assert data["top_campaigns"] and data["top_facilitators"] and data["invalid_by_reason"]
    assert data["checks"] == {"rollups": None, "ledger": None}


def test_row_reports_page_with_limit_and_offset(two_days, operator_client):
    total = Placement.objects.count()
    first = operator_client.get("/v1/reports/placements", {**RANGE, "limit": 5}).json()
    second = operator_client.get(
        "/v1/reports/placements", {**RANGE, "limit": 5, "offset": 5}
    ).json()
    everything = operator_client.get("/v1/reports/placements", {**RANGE, "limit": 500}).json()
    assert first["count"] == second["count"] == everything["count"] == total
    ids = [row["id"] for row in everything["placements"]]
    assert [row["id"] for row in first["placements"] + second["placements"]] == ids[:10]
    assert len(set(ids)) == total


def test_conversions_carry_both_hashes_and_explorer_links(two_days, operator_client):
    data = operator_client.get("/v1/reports/conversions", {**RANGE, "limit": 500}).json()
    assert data["count"] == Conversion.objects.count()
    by_id = {str(c.id): c for c in Conversion.objects.select_related("placement")}
    for row in data["conversions"]:
        conversion = by_id[row["id"]]
        assert row["original_tx_hash"] == conversion.original_tx_hash
        assert row["conversion_tx_hash"] == conversion.conversion_tx_hash
        assert row["billed_millis"] == str(conversion.placement.billed_millis)
        assert row["seconds_to_convert"] == int(
            (conversion.converted_at - conversion.placement.matched_at).total_seconds()
        )
        if conversion.conversion_tx_hash:
            assert row["conversion_tx_url"].endswith("/tx/" + conversion.conversion_tx_hash)


def test_status_reports_the_rollup_lag(db, operator_client, monkeypatch):
    world = traffic.make_world(monkeypatch, start_of(DAY1))
    assert operator_client.get("/v1/reports/status").json()["lag_seconds"] is None
    services.roll_up_today(now=world.clock.at(start_of(DAY1) + dt.timedelta(hours=3)))
    world.clock.at(start_of(DAY1) + dt.timedelta(hours=3, seconds=45))
    status = operator_client.get("/v1/reports/status").json()
    assert status["ok"] is True
    assert status["lag_seconds"] == 45.0
    assert status["last_rebuild"]["day"] == DAY1.isoformat()
    rollups = Client().get("/healthz").json()["parts"]["rollups"]
    assert rollups["status"] == "ok" and rollups["lag_seconds"] == 45.0
    world.clock.at(start_of(DAY1) + dt.timedelta(hours=3, minutes=5))
    assert operator_client.get("/v1/reports/status").json()["ok"] is False
    health = Client().get("/healthz").json()
    assert health["parts"]["rollups"]["status"] == "degraded"
    assert health["status"] == "degraded"  # said, not hidden (tests/test_health.py)


def test_every_report_is_in_the_openapi_schema(db):
    schema = Client().get("/v1/schema", HTTP_ACCEPT="application/json").json()
    for name in ENDPOINTS:
        operation = schema["paths"][f"/v1/reports/{name}"]["get"]
        assert "400" in operation["responses"] or name == "status"
        assert set(operation["responses"]) >= {"200", "401", "403"}
