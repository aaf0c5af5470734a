"""Malformed requests get a 4xx in the one error shape and change nothing."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from campaigns.models import Advertiser, Campaign
from tests.test_campaign_api import (
    ADVERTISERS,
    CAMPAIGNS,
    REQUIRED_FIELDS,
    assert_error,
    campaign_body,
    campaign_url,
    create_campaign,
)

pytestmark = pytest.mark.django_db

MAX_BODY = 16 * 1024


def _counts() -> tuple[int, int]:
    return Advertiser.objects.count(), Campaign.objects.count()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # networks: CAIP-2 only
        ("target_networks", ["base"]),
        ("target_networks", ["eip155"]),
        ("target_networks", ["EIP155:8453"]),
        ("target_networks", ["eip155:"]),
        ("target_networks", "eip155:8453"),
        # amounts: digit strings only
        ("budget_total", 1.5),
        ("budget_total", "1.5"),
        ("budget_total", "-1"),
        ("budget_total", "1e3"),
        ("budget_total", "0100"),
        ("budget_total", "00"),
        ("budget_total", 50000000),
        ("budget_total", True),
        ("budget_total", ""),
        ("budget_total", " 50000000"),
        ("budget_total", "+50000000"),
        ("budget_total", "0"),
        ("budget_total", "1000000000000001"),
        ("budget_total", None),
        ("budget_daily", "1.5"),
        ("budget_daily", 5000000),
        ("max_bid_amount", "-100000"),
        ("max_bid_amount", "1e5"),
        ("max_bid_amount", 100000.0),
        ("max_bid_amount", "0"),
        # the recommended resource: absolute https only
        ("rec_resource_url", "http://sponsor.example.com/v1/quote"),
        ("rec_resource_url", "ftp://sponsor.example.com/v1/quote"),
        ("rec_resource_url", "/v1/quote"),
        ("rec_resource_url", "sponsor.example.com/v1/quote"),
        ("rec_resource_url", "https://"),
        ("rec_resource_url", "javascript:alert(1)"),
        ("rec_resource_url", "https://sponsor.example.com/a b"),
        # transports, patterns and enums
        ("target_transports", ["smtp"]),
        ("target_transports", ["HTTP"]),
        ("target_url_patterns", ["*"]),
        ("target_url_patterns", ["**"]),
        ("target_url_patterns", [""]),
        ("target_url_patterns", ["*has space*"]),
        ("bid_strategy", "cpx"),
        ("pacing", "fast"),
        ("attribution_window_seconds", 10),
        ("frequency_cap", 0),
        ("schedule_start", "yesterday"),
        ("advertiser_id", "not-a-uuid"),
        ("name", ""),
    ],
)
def test_invalid_campaign_field(operator_client, advertiser, field, value):
    before = _counts()
    response = operator_client.post(
        CAMPAIGNS, campaign_body(advertiser.id, **{field: value}), format="json"
    )
    error = assert_error(response, 400, "validation_error")
    assert field in error["details"], error
    assert _counts() == before


def test_missing_required_fields_are_each_named(operator_client):
    before = _counts()
    error = assert_error(
        operator_client.post(CAMPAIGNS, {}, format="json"), 400, "validation_error"
    )
    assert set(error["details"]) == REQUIRED_FIELDS
    assert _counts() == before


@pytest.mark.parametrize("field", sorted(REQUIRED_FIELDS))
def test_each_missing_required_field_is_named(operator_client, advertiser, field):
    body = campaign_body(advertiser.id)
    del body[field]
    before = _counts()
    error = assert_error(
        operator_client.post(CAMPAIGNS, body, format="json"), 400, "validation_error"
    )
    assert set(error["details"]) == {field}
    assert _counts() == before


@pytest.mark.parametrize("unknown", ["budgetTotal", "status", "targetNetworks", "spent_millis"])
def test_unknown_campaign_field_is_refused(operator_client, advertiser, unknown):
    before = _counts()
    body = campaign_body(advertiser.id, **{unknown: "x"})
    error = assert_error(
        operator_client.post(CAMPAIGNS, body, format="json"), 400, "validation_error"
    )
    assert unknown in error["details"]
    assert _counts() == before


def test_daily_above_total_is_refused(operator_client, advertiser):
    before = _counts()
    body = campaign_body(advertiser.id, budget_total="1000000", budget_daily="1000001")
    error = assert_error(
        operator_client.post(CAMPAIGNS, body, format="json"), 400, "validation_error"
    )
    assert "budget_daily" in error["details"]
    assert _counts() == before


def test_budget_too_small_for_one_placement_is_refused(operator_client, advertiser):
    before = _counts()
    body = campaign_body(
        advertiser.id, budget_total="1000", budget_daily="1000", max_bid_amount="1001"
    )
    error = assert_error(
        operator_client.post(CAMPAIGNS, body, format="json"), 400, "validation_error"
    )
    assert {"budget_total", "budget_daily"} <= set(error["details"])
    assert _counts() == before


@pytest.mark.parametrize("gap", [dt.timedelta(hours=-1), dt.timedelta(0)])
def test_schedule_end_not_after_start_is_refused(operator_client, advertiser, gap):
    start = timezone.now() + dt.timedelta(days=1)
    before = _counts()
    body = campaign_body(
        advertiser.id, schedule_start=start.isoformat(), schedule_end=(start + gap).isoformat()
    )
    error = assert_error(
        operator_client.post(CAMPAIGNS, body, format="json"), 400, "validation_error"
    )
    assert "schedule_end" in error["details"]
    assert _counts() == before


@pytest.mark.parametrize("body", [[], "a string", 42, None])
def test_non_object_json_body_is_refused(operator_client, body):
    before = _counts()
    response = operator_client.post(CAMPAIGNS, json.dumps(body), content_type="application/json")
    assert_error(response, 400, "validation_error")
    assert _counts() == before


# --- advertisers -----------------------------------------------------------------------------

ADVERTISER_BODY = {
    "name": "Jupiter",
    "wallet_address": "0x" + "ab" * 20,
    "network": "eip155:8453",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("network", "base"),
        ("network", "8453"),
        ("network", ""),
        ("wallet_address", "0x1234"),
        ("wallet_address", "not a wallet"),
        ("wallet_address", 12345),
        ("name", ""),
    ],
)
def test_invalid_advertiser_field(operator_client, field, value):
    before = _counts()
    response = operator_client.post(ADVERTISERS, {**ADVERTISER_BODY, field: value}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]
    assert _counts() == before


def test_solana_network_with_evm_wallet_is_refused(operator_client):
    before = _counts()
    body = {**ADVERTISER_BODY, "network": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"}
    error = assert_error(
        operator_client.post(ADVERTISERS, body, format="json"), 400, "validation_error"
    )
    assert "wallet_address" in error["details"]
    assert _counts() == before


def test_advertiser_missing_fields_are_each_named(operator_client):
    error = assert_error(
        operator_client.post(ADVERTISERS, {}, format="json"), 400, "validation_error"
    )
    assert set(error["details"]) == {"name", "wallet_address", "network"}
    assert _counts() == (0, 0)


def test_advertiser_unknown_field_is_refused(operator_client):
    body = {**ADVERTISER_BODY, "walletAddress": "0x" + "cd" * 20}
    error = assert_error(
        operator_client.post(ADVERTISERS, body, format="json"), 400, "validation_error"
    )
    assert "walletAddress" in error["details"]
    assert _counts() == (0, 0)


# --- bodies: size, syntax, media type ---------------------------------------------------------


def _padded_json(size: int, advertiser_id) -> str:
    """A JSON campaign body of exactly `size` bytes (padding in rec_description)."""
    body = campaign_body(advertiser_id, rec_description="")
    empty = json.dumps(body)
    body["rec_description"] = "x" * (size - len(empty.encode()))
    raw = json.dumps(body)
    assert len(raw.encode()) == size
    return raw


@pytest.mark.parametrize("size", [MAX_BODY + 1, 1024 * 1024])
def test_oversized_body_is_413(operator_client, advertiser, size):
    before = _counts()
    response = operator_client.post(
        CAMPAIGNS, _padded_json(size, advertiser.id), content_type="application/json"
    )
    assert_error(response, 413, "body_too_large")
    assert _counts() == before


def test_oversized_body_through_the_json_client_is_413(operator_client, advertiser):
    before = _counts()
    body = campaign_body(advertiser.id, rec_description="x" * (MAX_BODY + 100))
    assert_error(operator_client.post(CAMPAIGNS, body, format="json"), 413, "body_too_large")
    assert_error(
        operator_client.post(
            ADVERTISERS, {**ADVERTISER_BODY, "name": "n" * MAX_BODY}, format="json"
        ),
        413,
        "body_too_large",
    )
    assert _counts() == before


def test_oversized_patch_is_413(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]
    response = operator_client.patch(
        campaign_url(cid), {"name": "n" * (MAX_BODY + 1)}, format="json"
    )
    assert_error(response, 413, "body_too_large")
    assert Campaign.objects.get(pk=cid).name == "Swap quotes"


def test_body_at_the_limit_is_read(operator_client, advertiser):
    # Exactly 16 KB passes the size guard and is then judged on its fields.
    response = operator_client.post(
        CAMPAIGNS, _padded_json(MAX_BODY, advertiser.id), content_type="application/json"
    )
    error = assert_error(response, 400, "validation_error")
    assert "rec_description" in error["details"]


@pytest.mark.parametrize("raw", ['{"name": ', "{'name': 'x'}", "not json", '{"a": 1,}', "NaN"])
def test_invalid_json_is_400_malformed_body(operator_client, raw):
    before = _counts()
    response = operator_client.post(CAMPAIGNS, raw, content_type="application/json")
    assert_error(response, 400, "malformed_body")
    response = operator_client.post(ADVERTISERS, raw, content_type="application/json")
    assert_error(response, 400, "malformed_body")
    assert _counts() == before


def test_invalid_json_patch_is_400_malformed_body(operator_client, advertiser):
    cid = create_campaign(operator_client, advertiser.id)["id"]
    response = operator_client.patch(
        campaign_url(cid), '{"name": "x"', content_type="application/json"
    )
    assert_error(response, 400, "malformed_body")
    assert Campaign.objects.get(pk=cid).name == "Swap quotes"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ],
)
def test_wrong_content_type_is_415(operator_client, advertiser, content_type):
    before = _counts()
    raw = json.dumps(campaign_body(advertiser.id))
    response = operator_client.post(CAMPAIGNS, raw, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert _counts() == before


def test_multipart_form_is_415(operator_client, advertiser):
    before = _counts()
    response = operator_client.post(CAMPAIGNS, campaign_body(advertiser.id), format="multipart")
    assert_error(response, 415, "unsupported_media_type")
    assert _counts() == before
