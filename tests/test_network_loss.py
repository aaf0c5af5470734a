"""Nothing is blamed on a facilitator for the network's own loss: follow-ups of placements
still in the journal are resolved, and those of placements lost with Redis are counted as
the network's loss, their budget returned and their clicks still sent to the advertiser."""

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import ConversionReport, InvalidTraffic
from campaigns import budget, grants, selectors
from campaigns.models import LostPlacement, Placement
from events import services as events
from events.models import SettlementEvent
from tests.factories import CampaignFactory, evm_address

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

URL = "https://api.example.com/v1/quote"


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


def match(client, n: int) -> dict:
    body = {
        "resourceUrl": URL,
        "network": "eip155:8453",
        "payerWallet": evm_address(n),
        "settledAmount": "10000",
        "txHash": tx(n),
    }
    answer = client.post("/v1/match", body, format="json").json()
    assert answer["matched"], answer
    return answer


def flush() -> None:
    """Redis loses everything this test keeps in it, the journal not yet drained included."""
    store = budget.store()
    keys = list(store.redis.scan_iter(match=f"{settings.BUDGET_REDIS_PREFIX}*", count=1000))
    if keys:
        store.redis.delete(*keys)


def follow_ups(facilitator_client, answers: list[dict]) -> None:
    """A beacon, a click, a settlement event and a conversion report, one per placement."""
    anyone = APIClient()
    beacon = anyone.get(f"/v1/track/impression/{answers[0]['impressionToken']}")
    assert beacon.status_code == 204
    click = anyone.get(f"/v1/track/click/{answers[1]['impressionToken']}")
    assert click.status_code == 302
    assert click["Location"] == answers[1]["recommendation"]["resourceUrl"]
    event = {
        "txHash": tx(2),
        "network": "eip155:8453",
        "resource": {"url": URL},
        "payer": evm_address(2),
        "settledAmount": "10000",
        "timestamp": timezone.now().isoformat(),
        "campaignId": answers[2]["campaignId"],
        "impressionToken": answers[2]["impressionToken"],
    }
    assert facilitator_client.post("/v1/events", event, format="json").status_code == 202
    for event_id in SettlementEvent.objects.values_list("pk", flat=True):
        events.process_event(event_id=event_id)
    report = {
        "originalTxHash": tx(3),
        "conversionTxHash": tx(103),
        "network": "eip155:8453",
        "payer": evm_address(3),
        "resourceUrl": answers[3]["conversionResource"],
        "settledAmount": "10000",
        "timestamp": timezone.now().isoformat(),
        "impressionToken": answers[3]["impressionToken"],
    }
    assert facilitator_client.post("/v1/conversions", report, format="json").status_code == 202


def test_follow_ups_of_placements_lost_with_redis_are_the_networks_loss(
    facilitator_client, operator_client
):
    campaign = CampaignFactory(budget_total=10_000_000, budget_daily=10_000_000)
    answers = [match(facilitator_client, n) for n in range(4)]
    flush()  # Redis died without persistence before the worker drained the journal

    follow_ups(facilitator_client, answers)

    assert Placement.objects.count() == 0
    assert InvalidTraffic.objects.count() == 0  # nothing held against the facilitator
    lost = LostPlacement.objects.order_by("source")
    assert [row.source for row in lost] == ["beacon", "click", "conversion", "event"]
    assert {row.campaign_id for row in lost} == {campaign.id}
    assert selectors.lost_placement_count() == 4
    assert SettlementEvent.objects.get().status == SettlementEvent.Status.PROCESSED
    assert ConversionReport.objects.get().invalid_reason == LostPlacement.REASON
    metrics = APIClient().get("/metrics").content.decode()
    assert "adnet_placements_lost 4.0" in metrics
    overview = operator_client.get("/v1/reports/overview").json()
    assert overview["network_loss"] == {"lost_placements": 4, "journal_set_aside": 0}
    # Their budget goes back: the grant Redis spent them from is settled at what reached
    # PostgreSQL (nothing) by the worker's reaper.
    campaign.refresh_from_db()
    assert campaign.held_millis > 0
    grants.reap()
    campaign.refresh_from_db()
    assert campaign.held_millis == 0


def test_follow_ups_of_placements_still_in_the_journal_are_resolved(facilitator_client):
    CampaignFactory(budget_total=10_000_000, budget_daily=10_000_000, bid_strategy="cpc")
    answers = [match(facilitator_client, n) for n in range(4)]

    follow_ups(facilitator_client, answers)  # before any drain

    assert LostPlacement.objects.count() == 0
    assert InvalidTraffic.objects.count() == 0
    assert Placement.objects.count() == 4
    assert ConversionReport.objects.get().outcome == ConversionReport.Outcome.ATTRIBUTED
    assert Placement.objects.filter(impression_at__isnull=False).count() == 1
    assert Placement.objects.filter(clicked_at__isnull=False).count() == 1
    assert Placement.objects.filter(delivered_at__isnull=False).count() == 1
