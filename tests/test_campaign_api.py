"""Contract tests of the advertiser and campaign API (wire-contract §7), through HTTP."""

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from adnet.core import clock
from campaigns.models import Advertiser, Campaign
from tests import factories

pytestmark = pytest.mark.django_db

ADVERTISERS = "/v1/advertisers"
CAMPAIGNS = "/v1/campaigns"
DIGITS = re.compile(r"^(0|[1-9][0-9]*)$")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

REQUIRED_FIELDS = {
    "advertiser_id",
    "name",
    "budget_total",
    "budget_daily",
    "max_bid_amount",
    "schedule_start",
    "rec_resource_url",
    "rec_description",
    "rec_sponsor_name",
}
OUTPUT_FIELDS = {
    "id",
    "advertiser_id",
    "name",
    "status",
    "bid_strategy",
    "pacing",
    "budget_total",
    "budget_daily",
    "max_bid_amount",
    "attribution_window_seconds",
    "frequency_cap",
    "target_categories",
    "target_networks",
    "target_transports",
    "target_url_patterns",
    "schedule_start",
    "schedule_end",
    "rec_resource_url",
    "rec_description",
    "rec_sponsor_name",
    "rec_bazaar_id",
    "created_at",
    "updated_at",
}
AMOUNT_FIELDS = ("budget_total", "budget_daily", "max_bid_amount")
SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"


# --- helpers (imported by the other API test modules) ---------------------------------------


def campaign_body(advertiser_id, /, **overrides) -> dict:
    """A valid POST /v1/campaigns body with only the required fields, unless overridden."""
    body = {
        "advertiser_id": str(advertiser_id),
        "name": "Swap quotes",
        "budget_total": "50000000",
        "budget_daily": "5000000",
        "max_bid_amount": "100000",
        "schedule_start": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "rec_resource_url": "https://sponsor.example.com/v1/quote",
        "rec_description": "Real-time swap quotes",
        "rec_sponsor_name": "Sponsor Inc",
    }
    body.update(overrides)
    return body


def create_campaign(client, advertiser_id, /, **overrides) -> dict:
    response = client.post(CAMPAIGNS, campaign_body(advertiser_id, **overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def campaign_url(campaign_id, action: str = "") -> str:
    return f"{CAMPAIGNS}/{campaign_id}" + (f"/{action}" if action else "")


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape: {"error": {"code", "message", "details"}}; returns the inner dict."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- advertisers ---------------------------------------------------------------------------


def test_operator_creates_advertiser(operator_client):
    wallet = "0xAbCdEf0123456789aBcDeF0123456789ABCDEF01"
    response = operator_client.post(
        ADVERTISERS,
        {"name": "Jupiter", "wallet_address": wallet, "network": "eip155:8453"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "wallet_address", "network", "created_at"}
    assert body["name"] == "Jupiter"
    assert body["network"] == "eip155:8453"
    # EVM addresses are case-insensitive: stored and returned lower-cased.
    assert body["wallet_address"] == wallet.lower()
    row = Advertiser.objects.get(pk=body["id"])
    assert row.wallet_address == wallet.lower()
    assert row.name == "Jupiter"


def test_solana_advertiser_wallet_keeps_its_case(operator_client):
    wallet = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
    response = operator_client.post(
        ADVERTISERS, {"name": "Sol", "wallet_address": wallet, "network": SOLANA}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["wallet_address"] == wallet
    assert response.json()["network"] == SOLANA


def test_operator_lists_advertisers_with_count_and_paging(operator_client):
    created = [factories.AdvertiserFactory() for _ in range(3)]
    response = operator_client.get(ADVERTISERS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"advertisers", "count"}
    assert body["count"] == 3
    assert {a["id"] for a in body["advertisers"]} == {str(a.id) for a in created}
    first = body["advertisers"][0]
    assert set(first) == {"id", "name", "wallet_address", "network", "created_at"}

    page = operator_client.get(ADVERTISERS, {"limit": 2, "offset": 2}).json()
    assert page["count"] == 3
    assert len(page["advertisers"]) == 1


# --- create --------------------------------------------------------------------------------


def test_create_with_required_fields_only_applies_defaults(operator_client, advertiser):
    body = campaign_body(advertiser.id)
    response = operator_client.post(CAMPAIGNS, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()

    assert set(data) >= OUTPUT_FIELDS
    assert all(SNAKE_CASE.match(name) for name in data), sorted(data)
    assert data["advertiser_id"] == str(advertiser.id)
    assert data["name"] == "Swap quotes"
    assert data["status"] == "draft"
    assert data["bid_strategy"] == "cpa"
    assert data["pacing"] == "even"
    assert data["attribution_window_seconds"] == 1800
    assert data["frequency_cap"] is None
    assert data["schedule_end"] is None
    assert data["target_categories"] == []
    assert data["target_networks"] == []
    assert data["target_transports"] == []
    assert data["target_url_patterns"] == []
    assert data["rec_bazaar_id"] == ""
    assert data["rec_resource_url"] == "https://sponsor.example.com/v1/quote"
    assert data["rec_description"] == "Real-time swap quotes"
    assert data["rec_sponsor_name"] == "Sponsor Inc"
    assert parse_time(data["schedule_start"]) == parse_time(body["schedule_start"])
    # Amounts are digit strings on the wire, never numbers.
    assert data["budget_total"] == "50000000"
    assert data["budget_daily"] == "5000000"
    assert data["max_bid_amount"] == "100000"
    for name in AMOUNT_FIELDS:
        assert isinstance(data[name], str)
        assert DIGITS.match(data[name])

    row = Campaign.objects.get(pk=data["id"])
    assert row.advertiser_id == advertiser.id
    assert row.status == Campaign.Status.DRAFT
    assert row.budget_total == 50_000_000
    assert row.budget_daily == 5_000_000
    assert row.max_bid_amount == 100_000
    assert row.spent_millis == 0
    assert row.held_millis == 0


def test_create_with_every_optional_field(operator_client, advertiser):
    start = timezone.now() - dt.timedelta(hours=1)
    end = start + dt.timedelta(days=30)
    body = campaign_body(
        advertiser.id,
        target_categories=["defi", "quotes"],
        target_networks=["eip155:8453", SOLANA],
        target_transports=["http", "mcp"],
        target_url_patterns=["*jupiter*", "https://api.example.com/*"],
        schedule_start=start.isoformat(),
        schedule_end=end.isoformat(),
        rec_bazaar_id="bazaar-123",
        bid_strategy="hybrid",
        pacing="asap",
        attribution_window_seconds=3600,
        frequency_cap=3,
    )
    response = operator_client.post(CAMPAIGNS, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["target_categories"] == ["defi", "quotes"]
    assert data["target_networks"] == ["eip155:8453", SOLANA]
    assert data["target_transports"] == ["http", "mcp"]
    assert data["target_url_patterns"] == ["*jupiter*", "https://api.example.com/*"]
    assert parse_time(data["schedule_end"]) == end
    assert data["rec_bazaar_id"] == "bazaar-123"
    assert data["bid_strategy"] == "hybrid"
    assert data["pacing"] == "asap"
    assert data["attribution_window_seconds"] == 3600
    assert data["frequency_cap"] == 3
    assert data["status"] == "draft"

    row = Campaign.objects.get(pk=data["id"])
    assert row.target_networks == ["eip155:8453", SOLANA]
    assert row.target_url_patterns == ["*jupiter*", "https://api.example.com/*"]
    assert row.schedule_end == end
    assert row.bid_strategy == "hybrid"
    assert row.pacing == "asap"
    assert row.attribution_window_seconds == 3600
    assert row.frequency_cap == 3


@pytest.mark.parametrize("strategy", ["cpm", "cpc", "cpa", "hybrid"])
def test_every_bid_strategy_is_accepted(operator_client, advertiser, strategy):
    data = create_campaign(operator_client, advertiser.id, bid_strategy=strategy)
    assert data["bid_strategy"] == strategy
    assert Campaign.objects.get(pk=data["id"]).bid_strategy == strategy


def test_largest_amount_round_trips_as_exact_digit_string(operator_client, advertiser):
    billion_usdc = "1000000000000000"  # 10^15 atomic units, the upper bound
    data = create_campaign(
        operator_client, advertiser.id, budget_total=billion_usdc, budget_daily=billion_usdc
    )
    assert data["budget_total"] == billion_usdc
    assert Campaign.objects.get(pk=data["id"]).budget_total == 10**15
    assert operator_client.get(campaign_url(data["id"])).json()["budget_total"] == billion_usdc


def test_target_lists_drop_repeats(operator_client, advertiser):
    data = create_campaign(
        operator_client,
        advertiser.id,
        target_transports=["mcp", "http", "mcp"],
        target_networks=["eip155:137", "eip155:137"],
    )
    assert data["target_transports"] == ["mcp", "http"]
    assert data["target_networks"] == ["eip155:137"]


def test_advertiser_creates_its_own_campaign(advertiser_client, advertiser):
    data = create_campaign(advertiser_client, advertiser.id)
    assert data["advertiser_id"] == str(advertiser.id)
    assert Campaign.objects.filter(advertiser=advertiser).count() == 1


def test_create_for_unknown_advertiser_is_refused(operator_client):
    response = operator_client.post(CAMPAIGNS, campaign_body(uuid.uuid4()), format="json")
    error = assert_error(response, 400, "validation_error")
    assert "advertiser_id" in error["details"]
    assert Campaign.objects.count() == 0


# --- list and read -------------------------------------------------------------------------


def test_list_shape_and_count(operator_client, advertiser):
    ids = {create_campaign(operator_client, advertiser.id, name=f"c{i}")["id"] for i in range(3)}
    response = operator_client.get(CAMPAIGNS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"campaigns", "count"}
    assert body["count"] == 3
    assert {c["id"] for c in body["campaigns"]} == ids
    for item in body["campaigns"]:
        assert set(item) >= OUTPUT_FIELDS
        assert all(DIGITS.match(item[name]) for name in AMOUNT_FIELDS)


def test_list_limit_and_offset(operator_client, advertiser):
    ids = {create_campaign(operator_client, advertiser.id, name=f"c{i}")["id"] for i in range(5)}
    seen = []
    for offset in (0, 2, 4):
        page = operator_client.get(CAMPAIGNS, {"limit": 2, "offset": offset}).json()
        assert page["count"] == 5
        assert len(page["campaigns"]) == (1 if offset == 4 else 2)
        seen.extend(c["id"] for c in page["campaigns"])
    assert len(seen) == 5
    assert set(seen) == ids  # pages are disjoint and cover everything
    past_end = operator_client.get(CAMPAIGNS, {"limit": 2, "offset": 10}).json()
    assert past_end == {"campaigns": [], "count": 5}


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"offset": -1}, {"offset": "x"}]
)
def test_list_rejects_bad_paging(operator_client, params):
    error = assert_error(operator_client.get(CAMPAIGNS, params), 400, "validation_error")
    assert error["details"]


def test_list_status_filter(operator_client, advertiser):
    a = create_campaign(operator_client, advertiser.id, name="a")
    b = create_campaign(operator_client, advertiser.id, name="b")
    c = create_campaign(operator_client, advertiser.id, name="c")
    assert operator_client.post(campaign_url(a["id"], "activate")).status_code == 200
    assert operator_client.post(campaign_url(b["id"], "activate")).status_code == 200
    assert operator_client.post(campaign_url(b["id"], "pause")).status_code == 200

    def ids(status):
        body = operator_client.get(CAMPAIGNS, {"status": status}).json()
        assert body["count"] == len(body["campaigns"])
        return {item["id"] for item in body["campaigns"]}

    assert ids("active") == {a["id"]}
    assert ids("paused") == {b["id"]}
    assert ids("draft") == {c["id"]}
    assert ids("exhausted") == set()
    error = assert_error(
        operator_client.get(CAMPAIGNS, {"status": "running"}), 400, "validation_error"
    )
    assert "status" in error["details"]


def test_list_advertiser_filter(operator_client, advertiser):
    other = factories.AdvertiserFactory()
    mine = create_campaign(operator_client, advertiser.id)
    create_campaign(operator_client, other.id)
    body = operator_client.get(CAMPAIGNS, {"advertiser_id": str(advertiser.id)}).json()
    assert body["count"] == 1
    assert [c["id"] for c in body["campaigns"]] == [mine["id"]]
    assert_error(operator_client.get(CAMPAIGNS, {"advertiser_id": "nope"}), 400, "validation_error")


def test_get_one(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id, frequency_cap=7)
    response = operator_client.get(campaign_url(created["id"]))
    assert response.status_code == 200
    assert response.json() == created


@pytest.mark.parametrize("missing_id", [str(uuid.uuid4()), "not-a-uuid", "123"])
def test_get_missing_is_404(operator_client, missing_id):
    assert_error(operator_client.get(campaign_url(missing_id)), 404, "campaign_not_found")


# --- update --------------------------------------------------------------------------------


def test_patch_is_partial(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id, target_transports=["mcp"])
    response = operator_client.patch(
        campaign_url(created["id"]), {"name": "Renamed"}, format="json"
    )
    assert response.status_code == 200, response.content
    updated = response.json()
    assert updated["name"] == "Renamed"
    unchanged = {k: v for k, v in created.items() if k not in {"name", "updated_at"}}
    assert {k: updated[k] for k in unchanged} == unchanged
    assert Campaign.objects.get(pk=created["id"]).name == "Renamed"


def test_patch_several_fields(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id)
    end = timezone.now() + dt.timedelta(days=3)
    response = operator_client.patch(
        campaign_url(created["id"]),
        {
            "budget_total": "80000000",
            "budget_daily": "8000000",
            "max_bid_amount": "200000",
            "schedule_end": end.isoformat(),
            "target_url_patterns": ["*jupiter*"],
            "pacing": "asap",
            "bid_strategy": "cpc",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["budget_total"] == "80000000"
    assert data["budget_daily"] == "8000000"
    assert data["max_bid_amount"] == "200000"
    assert parse_time(data["schedule_end"]) == end
    assert data["target_url_patterns"] == ["*jupiter*"]
    assert data["pacing"] == "asap"
    assert data["bid_strategy"] == "cpc"
    row = Campaign.objects.get(pk=created["id"])
    assert (row.budget_total, row.budget_daily, row.max_bid_amount) == (
        80_000_000,
        8_000_000,
        200_000,
    )


def test_patch_can_clear_schedule_end(operator_client, advertiser):
    end = timezone.now() + dt.timedelta(days=3)
    created = create_campaign(operator_client, advertiser.id, schedule_end=end.isoformat())
    response = operator_client.patch(
        campaign_url(created["id"]), {"schedule_end": None}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["schedule_end"] is None
    assert Campaign.objects.get(pk=created["id"]).schedule_end is None


def _row_snapshot(campaign_id) -> dict:
    row = Campaign.objects.get(pk=campaign_id)
    return {field.attname: getattr(row, field.attname) for field in Campaign._meta.concrete_fields}


def test_patch_daily_above_stored_total_is_refused(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id)  # total 50000000
    before = _row_snapshot(created["id"])
    response = operator_client.patch(
        campaign_url(created["id"]), {"budget_daily": "50000001"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert "budget_daily" in error["details"]
    assert _row_snapshot(created["id"]) == before


def test_patch_total_below_stored_daily_is_refused(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id)  # daily 5000000
    before = _row_snapshot(created["id"])
    response = operator_client.patch(
        campaign_url(created["id"]), {"budget_total": "4999999"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert "budget_daily" in error["details"]
    assert _row_snapshot(created["id"]) == before


def test_patch_daily_equal_to_total_is_allowed(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id)
    response = operator_client.patch(
        campaign_url(created["id"]), {"budget_daily": "50000000"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["budget_daily"] == "50000000"


def test_patch_schedule_end_before_stored_start_is_refused(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id)
    before = _row_snapshot(created["id"])
    start = parse_time(created["schedule_start"])
    for end in (start - dt.timedelta(minutes=1), start):
        response = operator_client.patch(
            campaign_url(created["id"]), {"schedule_end": end.isoformat()}, format="json"
        )
        error = assert_error(response, 400, "validation_error")
        assert "schedule_end" in error["details"]
    assert _row_snapshot(created["id"]) == before


def test_patch_schedule_start_after_stored_end_is_refused(operator_client, advertiser):
    end = timezone.now() + dt.timedelta(days=1)
    created = create_campaign(operator_client, advertiser.id, schedule_end=end.isoformat())
    before = _row_snapshot(created["id"])
    response = operator_client.patch(
        campaign_url(created["id"]),
        {"schedule_start": (end + dt.timedelta(hours=1)).isoformat()},
        format="json",
    )
    error = assert_error(response, 400, "validation_error")
    assert "schedule_end" in error["details"]
    assert _row_snapshot(created["id"]) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("advertiser_id", str(uuid.uuid4())),
        ("status", "active"),
        ("id", str(uuid.uuid4())),
        ("budget_total", "1.5"),
        ("budget_total", 60000000),
        ("rec_resource_url", "http://sponsor.example.com/x"),
        ("target_networks", ["base"]),
    ],
)
def test_patch_refuses_bad_or_read_only_fields(operator_client, advertiser, field, value):
    created = create_campaign(operator_client, advertiser.id)
    before = _row_snapshot(created["id"])
    response = operator_client.patch(campaign_url(created["id"]), {field: value}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]
    assert _row_snapshot(created["id"]) == before


def test_patch_missing_campaign_is_404(operator_client):
    response = operator_client.patch(campaign_url(uuid.uuid4()), {"name": "x"}, format="json")
    assert_error(response, 404, "campaign_not_found")


# --- status transitions --------------------------------------------------------------------


def _status(campaign_id) -> str:
    return Campaign.objects.get(pk=campaign_id).status


def test_draft_to_active_to_paused_to_active(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]
    assert _status(cid) == "draft"

    response = operator_client.post(campaign_url(cid, "activate"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert response.json()["id"] == cid
    assert _status(cid) == "active"

    response = operator_client.post(campaign_url(cid, "pause"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paused"
    assert _status(cid) == "paused"

    response = operator_client.post(campaign_url(cid, "activate"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert _status(cid) == "active"


def test_advertiser_can_activate_and_pause_its_own_campaign(advertiser_client, advertiser):
    cid = create_campaign(advertiser_client, advertiser.id)["id"]
    assert advertiser_client.post(campaign_url(cid, "activate")).json()["status"] == "active"
    assert advertiser_client.post(campaign_url(cid, "pause")).json()["status"] == "paused"
    assert _status(cid) == "paused"


def test_pause_on_draft_is_409(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]
    assert_error(operator_client.post(campaign_url(cid, "pause")), 409, "invalid_status_transition")
    assert _status(cid) == "draft"


def test_pause_is_idempotent(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]
    assert operator_client.post(campaign_url(cid, "activate")).status_code == 200
    assert operator_client.post(campaign_url(cid, "pause")).status_code == 200
    second = operator_client.post(campaign_url(cid, "pause"))
    assert second.status_code == 200, second.content
    assert second.json()["status"] == "paused"
    assert _status(cid) == "paused"


def test_activate_is_idempotent(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]
    first = operator_client.post(campaign_url(cid, "activate"))
    second = operator_client.post(campaign_url(cid, "activate"))
    assert first.status_code == 200
    assert second.status_code == 200, second.content
    assert second.json()["status"] == "active"
    assert _status(cid) == "active"


def test_campaign_past_its_schedule_end_cannot_be_activated(operator_client, advertiser):
    now = timezone.now()
    cid = create_campaign(
        operator_client,
        advertiser.id,
        schedule_start=(now - dt.timedelta(days=2)).isoformat(),
        schedule_end=(now - dt.timedelta(days=1)).isoformat(),
    )["id"]
    assert_error(
        operator_client.post(campaign_url(cid, "activate")), 409, "invalid_status_transition"
    )
    assert _status(cid) == "draft"

    # Extending the schedule makes it activatable again.
    response = operator_client.patch(
        campaign_url(cid),
        {"schedule_end": (now + dt.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert operator_client.post(campaign_url(cid, "activate")).status_code == 200
    assert _status(cid) == "active"


@pytest.mark.parametrize("action", ["activate", "pause"])
def test_transition_of_missing_campaign_is_404(operator_client, action):
    assert_error(
        operator_client.post(campaign_url(uuid.uuid4(), action)), 404, "campaign_not_found"
    )


# --- budgets below what is committed -------------------------------------------------------


def test_lowering_total_below_held_is_409_and_changes_nothing(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]  # total 50 USDC
    # An open placement holds 40 USDC of the total (millis = atomic * 1000).
    Campaign.objects.filter(pk=cid).update(held_millis=40_000_000 * 1000)
    before = _row_snapshot(cid)

    response = operator_client.patch(
        campaign_url(cid),
        {"budget_total": "39999999", "name": "should not stick"},
        format="json",
    )
    assert_error(response, 409, "budget_below_committed")
    assert _row_snapshot(cid) == before

    # Exactly what is held is still allowed.
    response = operator_client.patch(campaign_url(cid), {"budget_total": "40000000"}, format="json")
    assert response.status_code == 200, response.content
    assert Campaign.objects.get(pk=cid).budget_total == 40_000_000


def test_lowering_total_below_spent_plus_held_is_409(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]
    Campaign.objects.filter(pk=cid).update(
        spent_millis=20_000_000 * 1000, held_millis=10_000_000 * 1000
    )
    before = _row_snapshot(cid)
    response = operator_client.patch(campaign_url(cid), {"budget_total": "29000000"}, format="json")
    assert_error(response, 409, "budget_below_committed")
    assert _row_snapshot(cid) == before


def test_lowering_daily_below_todays_held_is_409(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]  # daily 5 USDC
    Campaign.objects.filter(pk=cid).update(
        held_millis=4_000_000 * 1000,
        day_held_millis=4_000_000 * 1000,
        day=clock.utc_day(clock.now()),
    )
    before = _row_snapshot(cid)
    response = operator_client.patch(campaign_url(cid), {"budget_daily": "3000000"}, format="json")
    assert_error(response, 409, "budget_below_committed")
    assert _row_snapshot(cid) == before


def test_lowering_total_above_committed_keeps_the_counters(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]  # total 50 USDC
    Campaign.objects.filter(pk=cid).update(
        spent_millis=1_000_000 * 1000, held_millis=2_000_000 * 1000
    )
    response = operator_client.patch(campaign_url(cid), {"budget_total": "10000000"}, format="json")
    assert response.status_code == 200, response.content
    row = Campaign.objects.get(pk=cid)
    assert row.budget_total == 10_000_000
    assert (row.spent_millis, row.held_millis) == (1_000_000_000, 2_000_000_000)


def test_yesterdays_daily_counters_do_not_bind(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]  # daily 5 USDC
    yesterday = clock.utc_day(clock.now()) - dt.timedelta(days=1)
    Campaign.objects.filter(pk=cid).update(
        spent_millis=4_000_000 * 1000,
        day_spent_millis=4_000_000 * 1000,
        day=yesterday,
    )
    response = operator_client.patch(campaign_url(cid), {"budget_daily": "3000000"}, format="json")
    assert response.status_code == 200, response.content
    row = Campaign.objects.get(pk=cid)
    assert row.budget_daily == 3_000_000
    assert row.day_spent_millis == 0
    assert row.day == clock.utc_day(clock.now())
    assert row.spent_millis == 4_000_000 * 1000  # the total's charges stay


def test_patch_price_above_daily_budget_is_refused(operator_client, advertiser):
    created = create_campaign(operator_client, advertiser.id)  # daily 5000000, cpa
    before = _row_snapshot(created["id"])
    response = operator_client.patch(
        campaign_url(created["id"]), {"max_bid_amount": "5000001"}, format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert "budget_daily" in error["details"]
    assert _row_snapshot(created["id"]) == before
    # As cpm the same price holds only a thousandth per placement, which fits.
    response = operator_client.patch(
        campaign_url(created["id"]),
        {"max_bid_amount": "5000001", "bid_strategy": "cpm"},
        format="json",
    )
    assert response.status_code == 200, response.content
