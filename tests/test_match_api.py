"""POST /v1/match: the compatible request and both response shapes (wire-contract §2)."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import tokens
from campaigns.models import Campaign, MatchRequest, Placement
from tests.factories import CampaignFactory, evm_address, settlement
from tests.support.journal import lent, written

URL = "https://api.example.com/v1/quote"

PAYER = evm_address(0x1111)


def body(**overrides) -> dict:
    values = {
        "resourceUrl": "https://api.example.com/v1/quote",
        "resourceDescription": "Swap quotes",
        "network": "eip155:8453",
        "payerWallet": PAYER,
        "settledAmount": "10000",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def match(client, **overrides):
    return client.post("/v1/match", body(**overrides), format="json")


@pytest.mark.django_db
def test_no_campaign_answers_exactly_matched_false(facilitator_client):
    response = match(facilitator_client)
    assert response.status_code == 200
    assert response.json() == {"matched": False}
    written()
    assert MatchRequest.objects.get().matched is False


@pytest.mark.django_db
def test_match_answers_the_compatible_shape(facilitator_client, facilitator):
    campaign = CampaignFactory(
        rec_resource_url="https://weather.example.net/v1/forecast",
        rec_description="Forecasts",
        rec_sponsor_name="Weather Co.",
    )
    response = match(facilitator_client)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "matched",
        "campaignId",
        "recommendation",
        "impressionBeacon",
        "conversionResource",
        "impressionToken",
        "tracking",
    }
    assert data["matched"] is True
    assert data["campaignId"] == str(campaign.id)
    assert data["recommendation"] == {
        "resourceUrl": "https://weather.example.net/v1/forecast",
        "description": "Forecasts",
        "sponsor": "Weather Co.",
    }
    assert data["conversionResource"] == "https://weather.example.net/v1/forecast"
    token = data["impressionToken"]
    assert data["impressionBeacon"] == f"http://testserver/v1/track/impression/{token}"
    assert data["tracking"] == {"clickUrl": f"http://testserver/v1/track/click/{token}"}
    assert data["tracking"] == {"clickUrl": f"http://testserver/v1/track/click/{token}"}

    written()
    placement = Placement.objects.get()
    decoded = tokens.decode(token)
    assert decoded is not None and decoded.placement_id == placement.id
    assert placement.facilitator_id == facilitator.id
    assert placement.payer == PAYER
    assert placement.transport == "http"
    assert placement.state == Placement.State.MATCHED
    request = MatchRequest.objects.get()
    assert request.matched is True and placement.match_request_id == request.id
    assert request.settled_amount == 10000


@pytest.mark.django_db
def test_optional_recommendation_fields_appear_only_when_set(facilitator_client):
    CampaignFactory(rec_bazaar_id="bz-42", rec_price=5000, rec_currency="USDC")
    rec = match(facilitator_client).json()["recommendation"]
    assert rec["bazaarId"] == "bz-42"
    assert rec["price"] == "5000"
    assert rec["currency"] == "USDC"


@pytest.mark.django_db
def test_beacon_uses_public_base_url(facilitator_client, settings):
    settings.PUBLIC_BASE_URL = "https://ads.example.org"
    CampaignFactory()
    data = match(facilitator_client).json()
    assert data["impressionBeacon"] == (
        f"https://ads.example.org/v1/track/impression/{data['impressionToken']}"
    )


@pytest.mark.django_db
def test_evm_payer_is_normalised_and_txhash_and_transport_recorded(facilitator_client):
    CampaignFactory(target_transports=["mcp"])
    tx = "0x" + "ab" * 32
    response = match(facilitator_client, payerWallet="0x" + "AB" * 20, transport="mcp", txHash=tx)
    assert response.json()["matched"] is True
    written()
    request = MatchRequest.objects.get()
    assert request.payer == "0x" + "ab" * 20
    assert request.tx_hash == tx
    assert request.transport == "mcp"


@pytest.mark.django_db
def test_unknown_fields_from_facilitators_are_ignored(facilitator_client):
    CampaignFactory()
    assert match(facilitator_client, somethingNew="x").json()["matched"] is True


@pytest.mark.django_db
def test_highest_bid_wins(facilitator_client):
    CampaignFactory(max_bid_amount=100)
    best = CampaignFactory(max_bid_amount=900)
    assert match(facilitator_client).json()["campaignId"] == str(best.id)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("campaign_overrides", "request_overrides"),
    [
        ({"status": Campaign.Status.DRAFT}, {}),
        ({"status": Campaign.Status.PAUSED}, {}),
        ({"status": Campaign.Status.EXHAUSTED}, {}),
        ({"schedule_start": timezone.now() + dt.timedelta(hours=1)}, {}),
        (
            {
                "schedule_end": timezone.now() - dt.timedelta(seconds=1),
                "schedule_start": timezone.now() - dt.timedelta(days=1),
            },
            {},
        ),
        ({"target_networks": ["eip155:137"]}, {}),
        ({"target_transports": ["mcp"]}, {}),
        ({"target_url_patterns": ["*jupiter*"]}, {}),
        ({"rec_resource_url": "https://api.example.com/v1/quote"}, {}),
        ({}, {"payerWallet": "ADVERTISER"}),
    ],
)
def test_ineligible_campaigns_do_not_match(
    facilitator_client, campaign_overrides, request_overrides
):
    campaign = CampaignFactory(**campaign_overrides)
    if request_overrides.get("payerWallet") == "ADVERTISER":
        request_overrides = {
            "payerWallet": campaign.advertiser.wallet_address.upper().replace("0X", "0x")
        }
    assert match(facilitator_client, **request_overrides).json() == {"matched": False}
    written()
    assert Placement.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.held_millis == 0
    assert MatchRequest.objects.count() == 1  # still observed


@pytest.mark.django_db
def test_url_patterns_contains_and_prefix(facilitator_client):
    jupiter = CampaignFactory(target_url_patterns=["*jupiter*"], max_bid_amount=500)
    prefix = CampaignFactory(target_url_patterns=["https://api.example.com/*"], max_bid_amount=100)
    assert match(facilitator_client, resourceUrl="https://quote.jupiter.ag/v6").json()[
        "campaignId"
    ] == str(jupiter.id)
    assert match(facilitator_client, resourceUrl="https://api.example.com/v2/x").json()[
        "campaignId"
    ] == str(prefix.id)


@pytest.mark.django_db
def test_frequency_cap_per_payer_per_day(facilitator_client):
    CampaignFactory(frequency_cap=2)
    answers = [match(facilitator_client).json()["matched"] for _ in range(3)]
    assert answers == [True, True, False]
    other = match(facilitator_client, payerWallet=evm_address(0x2222)).json()
    assert other["matched"] is True


@pytest.mark.django_db
def test_capped_campaign_falls_through_to_the_next(facilitator_client):
    CampaignFactory(frequency_cap=1, max_bid_amount=900)
    runner_up = CampaignFactory(max_bid_amount=100)
    match(facilitator_client)
    assert match(facilitator_client).json()["campaignId"] == str(runner_up.id)


@pytest.mark.django_db
def test_hold_is_taken_atomically_with_the_placement(facilitator_client):
    campaign = CampaignFactory(max_bid_amount=2500, bid_strategy="cpa")
    match(facilitator_client)
    written()
    campaign.refresh_from_db()
    assert Placement.objects.get().hold_millis == 2_500_000
    # Held: the placement's hold, and what is lent to Redis for the next placements.
    assert campaign.held_millis == 2_500_000 + lent(campaign)
    assert campaign.day_held_millis == campaign.held_millis
    assert campaign.day == timezone.now().date()


@pytest.mark.django_db
def test_cpm_holds_a_thousandth_of_the_bid(facilitator_client):
    campaign = CampaignFactory(max_bid_amount=3, bid_strategy="cpm")
    match(facilitator_client)
    written()
    campaign.refresh_from_db()
    assert Placement.objects.get().hold_millis == 3  # 3/1000 of an atomic unit, exactly
    assert campaign.held_millis == 3 + lent(campaign)


@pytest.mark.django_db
def test_budget_covers_exactly_k_placements(facilitator_client):
    campaign = CampaignFactory(max_bid_amount=1000, budget_total=3000, budget_daily=3000)
    answers = [
        match(facilitator_client, payerWallet=evm_address(i)).json()["matched"] for i in range(1, 6)
    ]
    assert answers == [True, True, True, False, False]
    campaign.refresh_from_db()
    assert campaign.held_millis == 3000 * 1000
    # Budget is only held, not spent: the campaign is full, not exhausted.
    assert campaign.status == Campaign.Status.ACTIVE


@pytest.mark.django_db
def test_daily_budget_limits_a_day_and_restarts_the_next(facilitator):
    from campaigns import services

    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    campaign = CampaignFactory(
        max_bid_amount=1000,
        budget_total=10_000,
        budget_daily=2000,
        schedule_start=today - dt.timedelta(days=2),
    )

    def placed(i: int, at: dt.datetime) -> bool:
        outcome = services.match_settlement(
            facilitator_id=facilitator.id,
            settlement=settlement(URL, evm_address(i)),
            settled_amount=10_000,
            now=at,
        )
        return outcome.placement is not None

    yesterday = today - dt.timedelta(days=1)
    assert [placed(i, yesterday) for i in range(1, 4)] == [True, True, False]
    # A new UTC day: today's budget is new, yesterday's holds still count in the total.
    assert placed(9, today) is True
    written()
    campaign.refresh_from_db()
    assert campaign.day == today.date()
    assert campaign.day_held_millis == 1_000_000 + lent(campaign) - _lent_before(campaign, today)
    assert campaign.held_millis == 3_000_000 + lent(campaign)
    assert Placement.objects.filter(hold_millis=1_000_000).count() == 3


def _lent_before(campaign, today) -> int:
    """Lent on an earlier day: in the total's held, not in today's."""
    from campaigns.models import BudgetGrant

    return sum(
        g.outstanding_millis
        for g in BudgetGrant.objects.filter(campaign=campaign, day__lt=today.date())
    )


@pytest.mark.django_db
def test_campaign_whose_charges_leave_no_room_becomes_exhausted(facilitator_client):
    campaign = CampaignFactory(max_bid_amount=1000, budget_total=5000, budget_daily=5000)
    Campaign.objects.filter(pk=campaign.pk).update(spent_millis=4_500_000)
    assert match(facilitator_client).json() == {"matched": False}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.EXHAUSTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"resourceUrl": None}, "resourceUrl"),
        ({"resourceUrl": "not a url"}, "resourceUrl"),
        ({"resourceUrl": "/relative/path"}, "resourceUrl"),
        ({"network": "base"}, "network"),
        ({"network": "EIP155:8453"}, "network"),
        ({"network": None}, "network"),
        ({"payerWallet": None}, "payerWallet"),
        ({"payerWallet": "0x1234"}, "payerWallet"),
        (
            {"network": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "payerWallet": "0OIl"},
            "payerWallet",
        ),
        ({"settledAmount": None}, "settledAmount"),
        ({"settledAmount": "1.5"}, "settledAmount"),
        ({"settledAmount": 1.5}, "settledAmount"),
        ({"settledAmount": 10000}, "settledAmount"),
        ({"settledAmount": "-1"}, "settledAmount"),
        ({"settledAmount": "1e3"}, "settledAmount"),
        ({"settledAmount": "0010"}, "settledAmount"),
        ({"transport": "smtp"}, "transport"),
        ({"txHash": "not a hash!"}, "txHash"),
    ],
)
def test_malformed_match_requests_get_400_and_change_nothing(facilitator_client, overrides, field):
    CampaignFactory()
    response = match(facilitator_client, **overrides)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    written()
    assert MatchRequest.objects.count() == 0
    assert Placement.objects.count() == 0


@pytest.mark.django_db
def test_solana_payer_keeps_its_case(facilitator_client):
    payer = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
    CampaignFactory()
    response = match(
        facilitator_client, network="solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", payerWallet=payer
    )
    assert response.json()["matched"] is True
    written()
    assert Placement.objects.get().payer == payer


@pytest.mark.django_db
def test_oversized_and_non_json_bodies(facilitator_client):
    big = facilitator_client.post(
        "/v1/match", data="x" * (1024 * 1024), content_type="application/json"
    )
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "body_too_large"
    broken = facilitator_client.post("/v1/match", data="{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "malformed_body"
    form = facilitator_client.post(
        "/v1/match", data="a=b", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 415
    assert form.json()["error"]["code"] == "unsupported_media_type"
    written()
    assert MatchRequest.objects.count() == 0


@pytest.mark.django_db
def test_json_array_body_is_a_validation_error(facilitator_client):
    response = facilitator_client.post("/v1/match", [body()], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
