"""Attribution, conversion reports and the ledger, per bid strategy, through the real paths."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from billing import services
from billing.models import Charge, Conversion, ConversionReport, InvalidTraffic
from campaigns.models import Campaign, MatchRequest, Placement
from conftest import client_with
from events import services as events
from events.models import SettlementEvent
from facilitators import services as facilitator_services
from tests.factories import CampaignFactory, FacilitatorFactory, evm_address
from tests.support.journal import lent, written

PAYER = evm_address(0xC0FFEE)
PAID = "https://api.example.com/v1/quote"
RECOMMENDED = "https://weather.example.net/v1/forecast"


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


def other_facilitator_client():
    return client_with(
        facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id).api_key
    )


def match(client, url=PAID, tx_hash=None, transport="http", payer=PAYER) -> dict:
    body = {
        "resourceUrl": url,
        "network": "eip155:8453",
        "payerWallet": payer,
        "settledAmount": "10000",
        "transport": transport,
    }
    if tx_hash:
        body["txHash"] = tx_hash
    answer = client.post("/v1/match", body, format="json").json()
    written()  # as the worker does within a second
    return answer


def campaign(**overrides) -> Campaign:
    values = {
        "rec_resource_url": RECOMMENDED,
        "target_url_patterns": [PAID],
        "max_bid_amount": 5000,
        "attribution_window_seconds": 1800,
    }
    values.update(overrides)
    return CampaignFactory(**values)


def attribute(at=None) -> int:
    return services.attribute_pending(now=at or timezone.now())


def spent(c: Campaign) -> int:
    c.refresh_from_db()
    return c.spent_millis


@pytest.mark.django_db
def test_conversion_with_both_hashes_bills_the_cpa_price(facilitator_client):
    c = campaign()
    placed = match(facilitator_client, tx_hash=tx(1))
    assert placed["matched"] is True
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(2))
    assert attribute() == 1
    conversion = Conversion.objects.get()
    assert (conversion.original_tx_hash, conversion.conversion_tx_hash) == (tx(1), tx(2))
    assert conversion.status == Conversion.Status.BILLED
    assert conversion.source == Conversion.Source.SERVER
    charge = Charge.objects.get()
    assert (charge.kind, charge.amount_millis) == ("conversion", 5_000_000)
    assert charge.evidence["originalTxHash"] == tx(1)
    assert charge.evidence["conversionTxHash"] == tx(2)
    assert spent(c) == 5_000_000
    assert c.held_millis == lent(c)
    written()
    placement = Placement.objects.get()
    assert (placement.state, placement.hold_millis, placement.billed_millis) == (
        "converted",
        0,
        5_000_000,
    )


@pytest.mark.django_db
def test_conversion_through_another_facilitator_is_attributed(facilitator_client):
    campaign()
    match(facilitator_client, tx_hash=tx(1))
    match(other_facilitator_client(), url=RECOMMENDED, tx_hash=tx(2))
    attribute()
    conversion = Conversion.objects.get()
    assert conversion.status == Conversion.Status.BILLED
    written()
    assert conversion.converting_facilitator_id != Placement.objects.get().facilitator_id


@pytest.mark.django_db
def test_attribution_window_boundary_and_last_touch(facilitator_client):
    campaign(attribution_window_seconds=600)
    campaign(attribution_window_seconds=600)  # a second sponsor of the same resource
    assert match(facilitator_client, tx_hash=tx(1))["matched"]
    assert match(facilitator_client, tx_hash=tx(2))["matched"]
    written()
    older, newer = Placement.objects.order_by("matched_at")
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(3))
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(4))
    # tx 3 pays one second after the newer placement's window closed; tx 4 exactly at its end.
    MatchRequest.objects.filter(tx_hash=tx(3)).update(
        received_at=newer.matched_at + dt.timedelta(seconds=601)
    )
    MatchRequest.objects.filter(tx_hash=tx(4)).update(
        received_at=newer.matched_at + dt.timedelta(seconds=600)
    )
    attribute(at=newer.matched_at + dt.timedelta(seconds=700))
    conversion = Conversion.objects.get()
    assert conversion.placement_id == newer.id  # last touch
    assert conversion.conversion_tx_hash == tx(4)
    assert not Conversion.objects.filter(placement_id=older.id).exists()


@pytest.mark.django_db
def test_last_touch_among_several_eligible_placements(facilitator_client):
    for _ in range(3):
        campaign()
    for n in (1, 2, 3):
        assert match(facilitator_client, tx_hash=tx(n))["matched"]
    written()
    placements = list(Placement.objects.order_by("matched_at"))
    # Make the middle one the most recent: it must win, whatever the insertion order. (The
    # last one moves back: moving the middle one forward could put it after the payment.)
    Placement.objects.filter(pk=placements[2].pk).update(
        matched_at=placements[1].matched_at - dt.timedelta(milliseconds=1)
    )
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(9))
    attribute()
    assert Conversion.objects.get().placement_id == placements[1].id


@pytest.mark.django_db
def test_payment_for_another_resource_or_by_another_payer_does_not_convert(facilitator_client):
    campaign()
    match(facilitator_client, tx_hash=tx(1))
    match(facilitator_client, url="https://elsewhere.example.org/x", tx_hash=tx(2))
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(3), payer=evm_address(0xBEEF))
    attribute()
    assert Conversion.objects.count() == 0


@pytest.mark.django_db
def test_a_placement_converts_at_most_once(facilitator_client):
    campaign()
    match(facilitator_client, tx_hash=tx(1))
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(2))
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(3))
    attribute()
    assert Conversion.objects.count() == 1
    assert Charge.objects.count() == 1


@pytest.mark.django_db
def test_conversion_without_hashes_waits_for_evidence_then_bills(facilitator_client):
    c = campaign()
    placed = match(facilitator_client)
    match(facilitator_client, url=RECOMMENDED)
    attribute()
    conversion = Conversion.objects.get()
    assert conversion.status == Conversion.Status.AWAITING_EVIDENCE
    assert spent(c) == 0
    # The facilitator's settlement event names the original transaction...
    event_id = uuid.UUID(
        facilitator_client.post(
            "/v1/events",
            {
                "txHash": tx(10),
                "network": "eip155:8453",
                "resource": {"url": PAID},
                "payer": PAYER,
                "settledAmount": "10000",
                "campaignId": placed["campaignId"],
                "impressionToken": placed["impressionToken"],
                "timestamp": timezone.now().isoformat(),
            },
            format="json",
        ).json()["eventId"]
    )
    events.process_event(event_id=event_id)
    conversion.refresh_from_db()
    assert conversion.original_tx_hash == tx(10)
    assert conversion.status == Conversion.Status.AWAITING_EVIDENCE
    # ...and its conversion report the converting one.
    response = facilitator_client.post(
        "/v1/conversions",
        {
            "originalTxHash": tx(10),
            "conversionTxHash": tx(11),
            "network": "eip155:8453",
            "payer": PAYER,
            "resourceUrl": RECOMMENDED,
            "settledAmount": "10000",
            "timestamp": timezone.now().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 202
    conversion.refresh_from_db()
    assert conversion.conversion_tx_hash == tx(11)
    assert conversion.status == Conversion.Status.BILLED
    assert ConversionReport.objects.get().outcome == ConversionReport.Outcome.CONFIRMED
    assert spent(c) == 5_000_000


@pytest.mark.django_db(transaction=True)  # the journal's entries leave Redis on commit
def test_unproven_conversion_is_unbilled_when_its_hold_goes_back(facilitator_client, settings):
    settings.EVIDENCE_GRACE_SECONDS = 60
    c = campaign(attribution_window_seconds=600)
    match(facilitator_client)
    match(facilitator_client, url=RECOMMENDED)
    attribute()
    later = timezone.now() + dt.timedelta(seconds=600 + 60 + 10)
    attribute(at=later)
    assert services.release_expired_holds(now=later) == 1
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.unbilled_reason) == ("unbilled", "no_evidence")
    charge = Charge.objects.get()
    assert (charge.amount_millis, charge.unbilled_millis) == (0, 5_000_000)
    c.refresh_from_db()
    assert (c.spent_millis, c.held_millis) == (0, lent(c))


@pytest.mark.django_db
def test_conversion_report_attributes_replays_and_conflicts(facilitator_client):
    campaign()
    placed = match(facilitator_client, tx_hash=tx(1))
    body = {
        "originalTxHash": tx(1),
        "conversionTxHash": tx(2),
        "network": "eip155:8453",
        "payer": PAYER,
        "resourceUrl": RECOMMENDED,
        "settledAmount": "10000",
        "timestamp": timezone.now().isoformat(),
        "impressionToken": placed["impressionToken"],
    }
    first = facilitator_client.post("/v1/conversions", body, format="json")
    assert first.status_code == 202
    assert set(first.json()) == {"accepted", "reportId"}
    again = facilitator_client.post("/v1/conversions", body, format="json")
    assert again.json() == first.json()
    conflict = facilitator_client.post(
        "/v1/conversions", {**body, "settledAmount": "1"}, format="json"
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conversion_conflict"
    conversion = Conversion.objects.get()
    assert conversion.source == Conversion.Source.REPORT
    assert conversion.status == Conversion.Status.BILLED
    assert ConversionReport.objects.count() == 1
    # The network's own attribution of the same payment adds nothing.
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(2))
    attribute()
    assert Conversion.objects.count() == 1
    assert Charge.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"conversionTxHash": "ORIGINAL"}, services.TX_HASH_REUSED),
        ({"payer": evm_address(0xDEAD)}, services.PAYER_MISMATCH),
        ({"resourceUrl": "https://other.example.org/x"}, services.NOT_CONVERSION_RESOURCE),
        ({"originalTxHash": tx(99), "impressionToken": None}, services.UNKNOWN_PLACEMENT),
        ({"impressionToken": "forged"}, services.UNKNOWN_PLACEMENT),
        ({"originalTxHash": tx(98)}, services.ORIGINAL_MISMATCH),
    ],
)
def test_invalid_conversion_reports_are_flagged_not_billed(facilitator_client, change, reason):
    c = campaign()
    placed = match(facilitator_client, tx_hash=tx(1))
    body = {
        "originalTxHash": tx(1),
        "conversionTxHash": tx(2),
        "network": "eip155:8453",
        "payer": PAYER,
        "resourceUrl": RECOMMENDED,
        "settledAmount": "10000",
        "timestamp": timezone.now().isoformat(),
        "impressionToken": placed["impressionToken"],
    }
    body.update(change)
    if body["conversionTxHash"] == "ORIGINAL":
        body["conversionTxHash"] = body["originalTxHash"]
    body = {k: v for k, v in body.items() if v is not None}
    response = facilitator_client.post("/v1/conversions", body, format="json")
    assert response.status_code == 202  # the normal answer
    report = ConversionReport.objects.get()
    assert (report.outcome, report.invalid_reason) == ("invalid", reason)
    assert InvalidTraffic.objects.get(source="conversion").reason == reason
    assert Conversion.objects.count() == 0
    assert spent(c) == 0


@pytest.mark.django_db
def test_report_naming_another_facilitators_placement_is_invalid(facilitator_client):
    campaign()
    placed = match(facilitator_client, tx_hash=tx(1))
    response = other_facilitator_client().post(
        "/v1/conversions",
        {
            "originalTxHash": tx(1),
            "conversionTxHash": tx(2),
            "network": "eip155:8453",
            "payer": PAYER,
            "resourceUrl": RECOMMENDED,
            "settledAmount": "10000",
            "timestamp": timezone.now().isoformat(),
            "impressionToken": placed["impressionToken"],
        },
        format="json",
    )
    assert response.status_code == 202
    assert ConversionReport.objects.get().invalid_reason == services.OTHER_FACILITATOR
    assert Conversion.objects.count() == 0


@pytest.mark.django_db
def test_report_outside_the_window_is_invalid(facilitator_client):
    campaign(attribution_window_seconds=600)
    placed = match(facilitator_client, tx_hash=tx(1))
    written()
    Placement.objects.update(
        matched_at=timezone.now() - dt.timedelta(seconds=700),
        attribution_deadline=timezone.now() - dt.timedelta(seconds=100),
    )
    facilitator_client.post(
        "/v1/conversions",
        {
            "originalTxHash": tx(1),
            "conversionTxHash": tx(2),
            "network": "eip155:8453",
            "payer": PAYER,
            "resourceUrl": RECOMMENDED,
            "settledAmount": "10000",
            "timestamp": timezone.now().isoformat(),
            "impressionToken": placed["impressionToken"],
        },
        format="json",
    )
    assert ConversionReport.objects.get().invalid_reason == services.OUTSIDE_WINDOW


@pytest.mark.django_db
def test_cpm_bills_a_thousandth_per_impression_exactly(facilitator_client, settings):
    settings.BEACON_RATE = "100000/m"  # the test client fires every beacon from one address
    # A price of 1 atomic unit per thousand impressions: 1,000 impressions bill exactly 1.
    c = campaign(
        bid_strategy="cpm", max_bid_amount=1, budget_total=10, budget_daily=10, frequency_cap=10_000
    )
    beacon = Client()
    for i in range(1000):
        placed = match(facilitator_client, payer=evm_address(0x100000 + i))
        assert placed["matched"] is True
        assert beacon.get(f"/v1/track/impression/{placed['impressionToken']}").status_code == 204
    assert Charge.objects.count() == 1000
    assert spent(c) == 1000  # millis: exactly one atomic unit
    assert sum(Charge.objects.values_list("amount_millis", flat=True)) == 1000
    c.refresh_from_db()
    assert c.held_millis == lent(c)


@pytest.mark.django_db
def test_cpm_impression_is_billed_once_however_often_the_beacon_fires(facilitator_client):
    c = campaign(bid_strategy="cpm", max_bid_amount=2000)
    token = match(facilitator_client)["impressionToken"]
    for _ in range(3):
        Client().get(f"/v1/track/impression/{token}")
    assert Charge.objects.count() == 1
    assert spent(c) == 2000


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["mcp", "a2a"])
def test_cpm_on_mcp_bills_when_the_settlement_event_verifies_it(facilitator_client, transport):
    c = campaign(bid_strategy="cpm", max_bid_amount=2000)
    placed = match(facilitator_client, transport=transport)
    event_id = facilitator_client.post(
        "/v1/events",
        {
            "txHash": tx(5),
            "network": "eip155:8453",
            "resource": {"url": PAID},
            "payer": PAYER,
            "settledAmount": "10000",
            "campaignId": placed["campaignId"],
            "impressionToken": placed["impressionToken"],
            "timestamp": timezone.now().isoformat(),
        },
        format="json",
    ).json()["eventId"]
    events.process_event(event_id=uuid.UUID(event_id))
    assert SettlementEvent.objects.get().status == "processed"
    assert spent(c) == 2000
    assert Charge.objects.get().evidence == {"eventId": event_id}


@pytest.mark.django_db
def test_cpc_click_redirects_and_bills_once(facilitator_client):
    c = campaign(bid_strategy="cpc", max_bid_amount=3000)
    placed = match(facilitator_client)
    click_path = placed["tracking"]["clickUrl"].removeprefix("http://testserver")
    first = Client().get(click_path)
    assert first.status_code == 302
    assert first["Location"] == RECOMMENDED
    assert Client().get(click_path).status_code == 302
    assert Charge.objects.get().kind == "click"
    assert spent(c) == 3_000_000
    assert InvalidTraffic.objects.get().reason == events.DUPLICATE_CLICK
    assert Client().get("/v1/track/click/forged").status_code == 404


@pytest.mark.django_db
def test_hybrid_http_conversion_replaces_the_impression_charge(facilitator_client):
    c = campaign(bid_strategy="hybrid", max_bid_amount=4000)
    placed = match(facilitator_client, tx_hash=tx(1))
    Client().get(f"/v1/track/impression/{placed['impressionToken']}")
    assert spent(c) == 4000  # the cpm part: 4000/1000 atomic units
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(2))
    attribute()
    assert spent(c) == 4_000_000  # the higher charge replaced the lower, not added to it
    kinds = dict(Charge.objects.values_list("kind", "amount_millis"))
    assert kinds == {"impression": 4000, "conversion": 3_996_000}
    written()
    assert Placement.objects.get().billed_millis == 4_000_000


@pytest.mark.django_db
def test_cpm_and_cpc_conversions_are_recorded_not_billed(facilitator_client):
    c = campaign(bid_strategy="cpc", max_bid_amount=3000)
    match(facilitator_client, tx_hash=tx(1))
    match(facilitator_client, url=RECOMMENDED, tx_hash=tx(2))
    attribute()
    assert Conversion.objects.get().status == Conversion.Status.NOT_BILLABLE
    assert spent(c) == 0


@pytest.mark.django_db
def test_a_late_charge_never_takes_new_budget(facilitator_client):
    c = campaign(bid_strategy="cpm", max_bid_amount=2000)
    token = match(facilitator_client)["impressionToken"]
    written()
    placement = Placement.objects.get()
    from campaigns import services as campaign_services

    campaign_services.release_hold(placement_id=placement.id)
    # The impression arrives after the hold went back (only possible through a race).
    Placement.objects.update(state="matched", expires_at=timezone.now() + dt.timedelta(hours=1))
    Client().get(f"/v1/track/impression/{token}")
    charge = Charge.objects.get()
    assert (charge.amount_millis, charge.unbilled_millis, charge.unbilled_reason) == (
        0,
        2000,
        "hold_released",
    )
    assert spent(c) == 0


@pytest.mark.django_db
def test_reconciliation_agrees_and_catches_a_drifted_counter(facilitator_client):
    c = campaign(bid_strategy="cpm", max_bid_amount=2000)
    Client().get(f"/v1/track/impression/{match(facilitator_client)['impressionToken']}")
    match(facilitator_client, payer=evm_address(5))
    assert services.reconcile().mismatches == []
    Campaign.objects.filter(pk=c.pk).update(spent_millis=1)
    report = services.reconcile()
    assert report.mismatches == [
        {"campaignId": str(c.id), "counter": "spent_millis", "counter_value": 1, "expected": 2000}
    ]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_the_journal_writes_settlements_that_cannot_convert_as_checked(facilitator_client):
    from campaigns import budget

    assert budget.enabled()  # the journal path: matches go through Redis, then a batch write
    campaign()
    stranger = evm_address(0x5EED)

    def post(url, payer, n):
        body = {
            "resourceUrl": url,
            "network": "eip155:8453",
            "payerWallet": payer,
            "settledAmount": "10000",
            "txHash": tx(n),
        }
        assert facilitator_client.post("/v1/match", body, format="json").status_code == 200

    # One batch: a placement for PAYER, PAYER paying the recommended resource right after
    # (possibly its conversion), and a stranger's payment nobody recommended to them.
    post(PAID, PAYER, 1)
    post(RECOMMENDED, PAYER, 2)
    post(RECOMMENDED, stranger, 3)
    written()
    # A later batch: PAYER pays the recommended resource again (the placement is now in
    # PostgreSQL), and a payment of a resource no placement of PAYER recommended.
    post(RECOMMENDED, PAYER, 4)
    post("https://elsewhere.example.org/v1/other", PAYER, 5)
    written()
    checked = dict(MatchRequest.objects.values_list("tx_hash", "attributed"))
    assert checked == {tx(1): True, tx(2): False, tx(3): True, tx(4): False, tx(5): True}
    # The sweep checks the two that may convert: the first converts, last touch.
    assert attribute() == 1
    conversion = Conversion.objects.get()
    assert conversion.conversion_tx_hash == tx(2)
    assert not MatchRequest.objects.filter(attributed=False).exists()
