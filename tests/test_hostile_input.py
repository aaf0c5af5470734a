"""Every way in refuses what it cannot store: a 400 in the error shape, and nothing written.

Lone surrogates and NUL anywhere in a body (keys too) or a query string, JSON nested past
adnet.core.json_body.MAX_DEPTH, text longer than the column it goes to (never cut). The
explicit cases are the ones measured in issue 29; the Hypothesis test throws generated
hostile bodies at every JSON endpoint.
"""

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adnet.core.json_body import MAX_DEPTH
from billing.models import Charge, Conversion, ConversionReport, InvalidTraffic
from campaigns.models import Advertiser, Campaign, MatchRequest, Placement
from conftest import client_with
from events.models import EventConflict, SettlementEvent
from facilitators import services as facilitator_services
from tests.factories import AdvertiserFactory, CampaignFactory, FacilitatorFactory, evm_address
from tests.support.journal import written

pytestmark = pytest.mark.django_db

TABLES = (
    Advertiser,
    Campaign,
    MatchRequest,
    Placement,
    SettlementEvent,
    EventConflict,
    ConversionReport,
    Conversion,
    InvalidTraffic,
    Charge,
)
PAYER = evm_address(0x4242)
SETTLED_AT = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()


def column(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def state() -> tuple:
    """Row counts of every table a request could write, and every campaign as it stands."""
    written()
    campaigns = tuple(Campaign.objects.order_by("pk").values_list("pk", "updated_at", "name"))
    return (*(model.objects.count() for model in TABLES), campaigns)


def match_body() -> dict:
    return {
        "resourceUrl": "https://api.example.com/v1/quote",
        "resourceDescription": "Swap quotes",
        "network": "eip155:8453",
        "payerWallet": PAYER,
        "settledAmount": "10000",
    }


def event_body(n: int = 1) -> dict:
    return {
        "txHash": "0x" + f"{n:064x}",
        "network": "eip155:8453",
        "resource": {"url": "https://api.example.com/v1/quote", "description": "Quotes"},
        "payer": PAYER,
        "settledAmount": "10000",
        "timestamp": SETTLED_AT,
    }


def conversion_body() -> dict:
    return {
        "originalTxHash": "0x" + "a" * 64,
        "conversionTxHash": "0x" + "b" * 64,
        "network": "eip155:8453",
        "payer": PAYER,
        "resourceUrl": "https://sponsor.example.com/v1/tool",
        "settledAmount": "10000",
        "timestamp": SETTLED_AT,
    }


def advertiser_body() -> dict:
    return {"name": "Weather Co.", "wallet_address": evm_address(0xAA), "network": "eip155:8453"}


def campaign_body(advertiser_id) -> dict:
    return {
        "advertiser_id": str(advertiser_id),
        "name": "Forecasts",
        "budget_total": "50000000",
        "budget_daily": "5000000",
        "max_bid_amount": "20000",
        "schedule_start": "2026-11-21T00:00:00Z",
        "rec_resource_url": "https://weather.example.net/v1/forecast",
        "rec_description": "Hourly forecasts",
        "rec_sponsor_name": "Weather Co.",
        "pacing": "even",
        "bid_strategy": "cpa",
    }


@pytest.fixture
def world(db):
    """A live campaign a valid match would be placed with, and a key of each kind."""
    facilitator = FacilitatorFactory()
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser)
    return {
        "facilitator": client_with(
            facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id).api_key
        ),
        "operator": client_with(facilitator_services.issue_operator_key(name="ops").api_key),
        "advertiser": advertiser,
        "campaign": campaign,
    }


def send(world, endpoint: str, raw: str):
    """(response, client) for a raw JSON body sent to one of the ENDPOINTS."""
    method, path, who, _ = ENDPOINTS[endpoint]
    client = world[who]
    path = path.format(campaign=world["campaign"].pk)
    return client.generic(method, path, raw, content_type="application/json"), client


def assert_refused(response, code: str | None = None) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


# (method, path, client, {text field path: column length}) of every JSON endpoint.
ENDPOINTS = {
    "match": (
        "POST",
        "/v1/match",
        "facilitator",
        {
            ("resourceUrl",): column(MatchRequest, "resource_url"),
            ("resourceDescription",): column(MatchRequest, "resource_description"),
            ("network",): column(MatchRequest, "network"),
            ("payerWallet",): column(MatchRequest, "payer"),
            ("txHash",): column(MatchRequest, "tx_hash"),
        },
    ),
    "explain": (
        "POST",
        "/v1/match?explain=1",
        "operator",
        {("resourceUrl",): column(MatchRequest, "resource_url")},
    ),
    "events": (
        "POST",
        "/v1/events",
        "facilitator",
        {
            ("txHash",): column(SettlementEvent, "tx_hash"),
            ("network",): column(SettlementEvent, "network"),
            ("payer",): column(SettlementEvent, "payer"),
            ("resource", "url"): column(SettlementEvent, "resource_url"),
            ("resource", "description"): column(SettlementEvent, "resource_description"),
            ("resource", "mimeType"): column(SettlementEvent, "resource_mime_type"),
            ("impressionToken",): column(SettlementEvent, "impression_token"),
        },
    ),
    "event batch": (
        "POST",
        "/v1/events",
        "facilitator",
        {
            (1, "txHash"): column(SettlementEvent, "tx_hash"),
            (1, "resource", "description"): column(SettlementEvent, "resource_description"),
        },
    ),
    "conversions": (
        "POST",
        "/v1/conversions",
        "facilitator",
        {
            ("originalTxHash",): column(ConversionReport, "original_tx_hash"),
            ("conversionTxHash",): column(ConversionReport, "conversion_tx_hash"),
            ("network",): column(ConversionReport, "network"),
            ("payer",): column(Conversion, "payer"),
            ("resourceUrl",): column(Conversion, "resource_url"),
        },
    ),
    "advertisers": (
        "POST",
        "/v1/advertisers",
        "operator",
        {
            ("name",): column(Advertiser, "name"),
            ("wallet_address",): column(Advertiser, "wallet_address"),
            ("network",): column(Advertiser, "network"),
        },
    ),
    "campaigns": (
        "POST",
        "/v1/campaigns",
        "operator",
        {
            ("name",): column(Campaign, "name"),
            ("rec_resource_url",): column(Campaign, "rec_resource_url"),
            ("rec_description",): column(Campaign, "rec_description"),
            ("rec_sponsor_name",): column(Campaign, "rec_sponsor_name"),
            ("rec_bazaar_id",): column(Campaign, "rec_bazaar_id"),
            ("rec_currency",): column(Campaign, "rec_currency"),
        },
    ),
    "campaign patch": (
        "PATCH",
        "/v1/campaigns/{campaign}",
        "operator",
        {
            ("name",): column(Campaign, "name"),
            ("rec_description",): column(Campaign, "rec_description"),
        },
    ),
}


def valid_body(endpoint: str, world) -> object:
    if endpoint in ("match", "explain"):
        return match_body()
    if endpoint == "events":
        return event_body()
    if endpoint == "event batch":
        return [event_body(1), event_body(2)]
    if endpoint == "conversions":
        return conversion_body()
    if endpoint == "advertisers":
        return advertiser_body()
    body = campaign_body(world["advertiser"].pk)
    if endpoint == "campaign patch":
        del body["advertiser_id"]
    return body


def _set(body, path: tuple, value) -> None:
    for step in path[:-1]:
        body = body[step]
    body[path[-1]] = value


DEEP = "__deep__"


def _raw(body, depth: int = 0) -> str:
    """The body as JSON (lone surrogates and NUL escaped), with nesting `depth` deep where
    the DEEP marker is."""
    raw = json.dumps(body)
    return raw.replace(json.dumps(DEEP), "[" * depth + "]" * depth) if depth else raw


# --- the cases measured in issue 29 ------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["resourceDescription", "resourceUrl", "payerWallet", "transport", "txHash"]
)
@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\x00", "a\x00b"])
def test_a_match_with_a_lone_surrogate_or_nul_is_refused_and_blocks_nothing(world, field, text):
    before = state()
    value = "https://api.example.com/" + text if field == "resourceUrl" else text
    response, client = send(world, "match", _raw({**match_body(), field: value}))
    error = assert_refused(response, "malformed_body")
    assert field in error["details"]
    assert client.fast_answers == 0  # the fast path leaves it to Django, which refuses it
    assert state() == before
    # The journal is not blocked: the next match is placed and written.
    response, _ = send(world, "match", _raw(match_body()))
    assert response.json()["matched"] is True
    written()
    assert Placement.objects.count() == 1


def test_a_lone_surrogate_or_nul_in_a_key_is_refused(world):
    for key in ("\ud800", "x\x00"):
        for endpoint in ENDPOINTS:
            body = valid_body(endpoint, world)
            target = body[0] if isinstance(body, list) else body
            target[key] = "x"
            before = state()
            response, _ = send(world, endpoint, _raw(body))
            assert_refused(response, "malformed_body")
            assert state() == before


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 5000])
def test_json_nested_past_the_limit_is_refused(world, endpoint, depth):
    before = state()
    response, _ = send(world, endpoint, "[" * depth + "]" * depth)
    error = assert_refused(response, "malformed_body")
    assert f"deeper than {MAX_DEPTH}" in error["message"]
    # Inside a valid body too.
    body = valid_body(endpoint, world)
    (body[0] if isinstance(body, list) else body)["extra"] = DEEP
    response, _ = send(world, endpoint, _raw(body, depth - 1))
    assert_refused(response, "malformed_body")
    assert state() == before


def test_nesting_up_to_the_limit_is_read(world):
    body = match_body()
    body["extra"] = DEEP
    response, _ = send(world, "match", _raw(body, MAX_DEPTH - 1))  # the body is one level
    assert response.json()["matched"] is True


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [("match", "transport"), ("campaigns", "pacing"), ("campaigns", "bid_strategy")],
)
def test_a_lone_surrogate_in_a_choice_field_is_refused(world, endpoint, field):
    before = state()
    body = valid_body(endpoint, world)
    body[field] = "\ud800"
    response, _ = send(world, endpoint, _raw(body))
    assert field in assert_refused(response, "malformed_body")["details"]
    assert state() == before


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        ("match", ("txHash",)),
        ("events", ("txHash",)),
        ("event batch", (1, "txHash")),
        ("conversions", ("originalTxHash",)),
        ("conversions", ("conversionTxHash",)),
    ],
)
@pytest.mark.parametrize("tx_hash", ["0x" + "a" * 128, "a" * 129])
def test_a_hash_longer_than_its_column_is_refused_not_cut(world, endpoint, path, tx_hash):
    before = state()
    body = valid_body(endpoint, world)
    _set(body, path, tx_hash)
    error = assert_refused(send(world, endpoint, _raw(body))[0], "validation_error")
    details = error["details"]
    for step in path:
        details = details[str(step)]  # a batch's errors are keyed by the item's index
    assert details == ["Ensure this field has no more than 128 characters."]
    assert state() == before


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [(endpoint, path) for endpoint, spec in ENDPOINTS.items() for path in spec[3]],
)
def test_text_longer_than_its_column_is_refused_not_cut(world, endpoint, path):
    limit = ENDPOINTS[endpoint][3][path]
    before = state()
    body = valid_body(endpoint, world)
    _set(body, path, "https://x.example/" + "a" * (limit - 17))
    assert_refused(send(world, endpoint, _raw(body))[0], "validation_error")
    assert state() == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/campaigns?status=%00",
        "/v1/campaigns?unknown=a%00b",
        "/v1/advertisers?limit=1%00",
        "/v1/reports/overview?network=eip155:1%00",
        "/v1/reports/traffic?granularity=day&x=%00",
        "/v1/reports/placements?offset=%00",
    ],
)
def test_nul_in_a_query_string_is_refused(world, path):
    assert_refused(world["operator"].get(path))


def test_nul_in_a_match_query_string_is_refused(world):
    before = state()
    raw = _raw(match_body())
    response = world["facilitator"].generic(
        "POST", "/v1/match?x=%00", raw, content_type="application/json"
    )
    assert_refused(response)
    assert state() == before


@pytest.mark.parametrize("token", ["%00abc", "abc%00", "%ED%A0%80", "a" * 5000])
def test_hostile_beacon_and_click_tokens_change_nothing(world, token):
    """The beacon answers 204 whatever the token (wire-contract §4), the click link 404s;
    each is recorded as invalid traffic by its reason alone, the token kept nowhere."""
    index = TABLES.index(InvalidTraffic)
    before = state()
    assert world["operator"].get(f"/v1/track/impression/{token}").status_code == 204
    response = world["operator"].get(f"/v1/track/click/{token}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    after = state()
    assert after[:index] + after[index + 1 :] == before[:index] + before[index + 1 :]
    recorded = InvalidTraffic.objects.order_by("-occurred_at")[: after[index] - before[index]]
    assert {(r.source, r.source_ref, str(r.detail)) for r in recorded} <= {
        ("beacon", "", "{}"),
        ("click", "", "{}"),
    }


# --- generated hostile bodies at every JSON endpoint ------------------------------------------

SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
HOSTILE_TEXT = st.one_of(
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), SURROGATES, st.text(max_size=5)),
    st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=5), st.text(max_size=5)),
)
WRONG_TYPES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def hostile(draw):
    """(endpoint, how to spoil a valid body of it, whether a refusal is certain)."""
    endpoint = draw(st.sampled_from(list(ENDPOINTS)))
    texts = list(ENDPOINTS[endpoint][3])
    kind = draw(st.sampled_from(["text", "key", "deep", "long", "type", "body"]))
    if kind == "text":
        return endpoint, ("set", draw(st.sampled_from(texts)), draw(HOSTILE_TEXT)), True
    if kind == "key":
        return endpoint, ("key", draw(HOSTILE_TEXT)), True
    if kind == "deep":
        return endpoint, ("deep", draw(st.integers(MAX_DEPTH, 3000))), True
    if kind == "long":
        path = draw(st.sampled_from(texts))
        extra = draw(st.integers(1, 40))
        return endpoint, ("long", path, ENDPOINTS[endpoint][3][path] + extra), True
    if kind == "body":
        return endpoint, ("body", draw(WRONG_TYPES)), False
    return endpoint, ("set", draw(st.sampled_from(texts)), draw(WRONG_TYPES)), False


def spoiled(world, endpoint: str, how: tuple) -> str:
    body = valid_body(endpoint, world)
    target = body[1] if isinstance(body, list) else body
    if how[0] == "body":
        return json.dumps(how[1])
    if how[0] == "set":
        _set(body, how[1], how[2])
    elif how[0] == "key":
        target[how[1]] = "x"
    elif how[0] == "long":
        _set(body, how[1], "https://x.example/" + "a" * (how[2] - 18))
    elif how[0] == "deep":
        target["extra"] = DEEP
        return _raw(body, how[1])
    return _raw(body)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=hostile())
def test_generated_hostile_bodies_get_no_5xx_and_change_nothing(world, case):
    endpoint, how, certain = case
    before = state()
    response, _ = send(world, endpoint, spoiled(world, endpoint, how))
    assert response.status_code < 500, response.content
    if certain or response.status_code >= 400:
        assert_refused(response)
        assert state() == before
