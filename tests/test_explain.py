"""POST /v1/match?explain=1: an operator's dry run of matching."""

import pytest

from campaigns.models import Campaign, MatchRequest, PayerDailyCount, Placement
from tests.factories import CampaignFactory, evm_address
from tests.support.journal import written

BODY = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payerWallet": evm_address(0x1234),
    "settledAmount": "10000",
}


def explain(client, query=""):
    return client.post(f"/v1/match?explain=1{query}", BODY, format="json")


@pytest.mark.django_db
def test_explain_lists_candidates_reasons_and_scores_and_changes_nothing(operator_client):
    winner = CampaignFactory(max_bid_amount=900, name="winner")
    runner_up = CampaignFactory(max_bid_amount=100, name="runner-up")
    wrong_network = CampaignFactory(target_networks=["eip155:137"], name="polygon only")
    full = CampaignFactory(max_bid_amount=5000, name="full", budget_total=5, budget_daily=5)
    Campaign.objects.filter(pk=full.pk).update(held_millis=5000)
    elsewhere = CampaignFactory(target_url_patterns=["*jupiter*"], name="jupiter")

    response = explain(operator_client)
    assert response.status_code == 200
    data = response.json()
    assert data["explain"] is True
    assert data["matched"] is True
    assert data["winner"] == str(winner.id)
    assert data["notConsidered"] == 1  # the jupiter campaign's pattern does not match
    by_id = {c["campaignId"]: c for c in data["candidates"]}
    assert str(elsewhere.id) not in by_id
    assert by_id[str(winner.id)]["excluded"] is None
    assert by_id[str(runner_up.id)]["excluded"] is None
    assert by_id[str(wrong_network.id)]["excluded"] == "network_not_targeted"
    assert by_id[str(full.id)]["excluded"] == "budget_total_committed"
    assert by_id[str(winner.id)]["score"] == pytest.approx(900 * 1000 * 0.02)
    assert by_id[str(winner.id)]["expectedRate"] == pytest.approx(0.02)
    assert by_id[str(winner.id)]["budget"]["holdMillis"] == 900_000
    # A dry run: nothing held, placed or recorded.
    written()
    assert Placement.objects.count() == 0
    assert MatchRequest.objects.count() == 0
    assert PayerDailyCount.objects.count() == 0


@pytest.mark.django_db
def test_explain_can_name_campaigns_whose_patterns_do_not_match(operator_client):
    elsewhere = CampaignFactory(target_url_patterns=["*jupiter*"])
    data = explain(operator_client, f"&campaign_id={elsewhere.id}").json()
    assert data["matched"] is False
    assert data["candidates"][0]["campaignId"] == str(elsewhere.id)
    assert data["candidates"][0]["excluded"] == "url_pattern_not_matched"


@pytest.mark.django_db
def test_explain_reports_frequency_caps(operator_client, facilitator_client):
    campaign = CampaignFactory(frequency_cap=1)
    assert facilitator_client.post("/v1/match", BODY, format="json").json()["matched"] is True
    entry = explain(operator_client).json()["candidates"][0]
    assert entry["campaignId"] == str(campaign.id)
    assert entry["excluded"] == "frequency_capped"
    assert entry["frequency"] == {"cap": 1, "usedToday": 1}


@pytest.mark.django_db
def test_explain_is_for_operators_only(facilitator_client, advertiser_client, operator_client):
    CampaignFactory()
    assert explain(facilitator_client).status_code == 403
    assert explain(advertiser_client).status_code == 403
    assert operator_client.post("/v1/match", BODY, format="json").status_code == 403
    assert explain(operator_client, "&campaign_id=nope").status_code == 400


@pytest.mark.django_db
def test_explain_names_campaigns_that_are_not_live(operator_client):
    paused = CampaignFactory(status=Campaign.Status.PAUSED)
    data = explain(operator_client, f"&campaign_id={paused.id}").json()
    entry = data["candidates"][0]
    assert entry["campaignId"] == str(paused.id)
    assert entry["excluded"] == "not_active"
