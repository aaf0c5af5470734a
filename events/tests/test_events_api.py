"""POST /v1/events: durable intake, idempotency by chain facts, processing and invalid traffic."""

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import InvalidTraffic
from campaigns import tokens
from campaigns.models import LostPlacement, Placement
from conftest import client_with
from events import services
from events.models import EventConflict, SettlementEvent
from facilitators import services as facilitator_services
from tests.factories import CampaignFactory, FacilitatorFactory, evm_address
from tests.support.journal import written

PAYER = evm_address(0x7777)
SETTLED_AT = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).replace(microsecond=0)


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


def matched(client, transport="http", payer=PAYER) -> dict:
    data = client.post(
        "/v1/match",
        {
            "resourceUrl": "https://api.example.com/v1/quote",
            "network": "eip155:8453",
            "payerWallet": payer,
            "settledAmount": "10000",
            "transport": transport,
        },
        format="json",
    ).json()
    assert data["matched"] is True
    return data


def event_body(n: int = 1, match: dict | None = None, **overrides) -> dict:
    body = {
        "txHash": tx(n),
        "network": "eip155:8453",
        "resource": {"url": "https://api.example.com/v1/quote", "description": "Quotes"},
        "payer": PAYER,
        "settledAmount": "10000",
        "timestamp": SETTLED_AT.isoformat().replace("+00:00", "Z"),
    }
    if match:
        body["campaignId"] = match["campaignId"]
        body["impressionToken"] = match["impressionToken"]
    body.update(overrides)
    return body


def send(client, body):
    return client.post("/v1/events", body, format="json")


def process_all() -> int:
    ordered = SettlementEvent.objects.order_by("received_at", "tx_hash")
    return sum(services.process_event(event_id=pk) for pk in ordered.values_list("pk", flat=True))


@pytest.mark.django_db
def test_single_event_is_accepted_and_recorded(facilitator_client, facilitator):
    response = send(facilitator_client, event_body(payer="0x" + "AB" * 20))
    assert response.status_code == 202
    data = response.json()
    assert set(data) == {"accepted", "eventId"}
    assert data["accepted"] is True
    event = SettlementEvent.objects.get()
    assert str(event.id) == data["eventId"]
    assert event.status == SettlementEvent.Status.PENDING
    assert event.facilitator_id == facilitator.id
    assert event.payer == "0x" + "ab" * 20
    assert event.tx_hash == tx(1)
    assert event.settled_amount == 10000
    assert event.occurred_at == SETTLED_AT


@pytest.mark.django_db
def test_replay_returns_the_same_id_and_changes_nothing(facilitator_client):
    first = send(facilitator_client, event_body()).json()
    again = send(facilitator_client, event_body()).json()
    assert again == first
    assert SettlementEvent.objects.count() == 1
    assert EventConflict.objects.count() == 0


@pytest.mark.django_db
def test_same_hash_with_another_body_is_a_conflict_not_applied(facilitator_client):
    first = send(facilitator_client, event_body(settledAmount="10000")).json()
    other = send(facilitator_client, event_body(settledAmount="99999")).json()
    assert other == first  # the answer teaches nothing
    event = SettlementEvent.objects.get()
    assert event.settled_amount == 10000
    conflict = EventConflict.objects.get()
    assert conflict.event_id == event.id
    assert conflict.body["settledAmount"] == "99999"
    send(facilitator_client, event_body(settledAmount="99999"))
    assert EventConflict.objects.count() == 1


@pytest.mark.django_db
def test_same_hash_from_another_facilitator_is_a_conflict(facilitator_client):
    send(facilitator_client, event_body())
    other = client_with(
        facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id).api_key
    )
    assert send(other, event_body()).status_code == 202
    assert SettlementEvent.objects.count() == 1
    assert EventConflict.objects.count() == 1


@pytest.mark.django_db
def test_same_hash_on_another_network_is_another_event(facilitator_client):
    send(facilitator_client, event_body())
    send(facilitator_client, event_body(network="eip155:137"))
    assert SettlementEvent.objects.count() == 2


@pytest.mark.django_db
def test_batch_answers_ids_in_order(facilitator_client):
    bodies = [event_body(1), event_body(2), event_body(1)]
    response = send(facilitator_client, bodies)
    assert response.status_code == 202
    ids = response.json()["eventIds"]
    assert len(ids) == 3
    assert ids[0] == ids[2] != ids[1]
    assert SettlementEvent.objects.count() == 2


@pytest.mark.django_db
def test_batch_limits_and_atomic_validation(facilitator_client):
    too_many = send(facilitator_client, [event_body(i) for i in range(501)])
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "batch_too_large"
    empty = send(facilitator_client, [])
    assert empty.status_code == 400
    one_bad = send(facilitator_client, [event_body(1), event_body(2, network="base")])
    assert one_bad.status_code == 400
    assert set(one_bad.json()["error"]["details"]) == {"1"}  # only the bad item, by index
    assert one_bad.json()["error"]["details"]["1"]["network"]
    assert SettlementEvent.objects.count() == 0
    full = send(facilitator_client, [event_body(i) for i in range(500)])
    assert full.status_code == 202
    assert SettlementEvent.objects.count() == 500


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"txHash": None}, "txHash"),
        ({"txHash": "nope"}, "txHash"),
        ({"network": "base"}, "network"),
        ({"resource": {"description": "no url"}}, "resource"),
        ({"resource": "https://api.example.com"}, "resource"),
        ({"payer": "0x12"}, "payer"),
        ({"settledAmount": "1.5"}, "settledAmount"),
        ({"settledAmount": 100}, "settledAmount"),
        ({"campaignId": "not-a-uuid"}, "campaignId"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": None}, "timestamp"),
        ({"timestamp": "2099-01-01T00:00:00Z"}, "timestamp"),
    ],
)
def test_malformed_events_get_400_and_change_nothing(facilitator_client, overrides, field):
    body = {k: v for k, v in event_body(**overrides).items() if v is not None}
    response = send(facilitator_client, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert SettlementEvent.objects.count() == 0


@pytest.mark.django_db
def test_only_facilitator_keys_may_send_events(operator_client, advertiser_client):
    assert send(operator_client, event_body()).status_code == 403
    assert send(advertiser_client, event_body()).status_code == 403
    assert send(APIClient(), event_body()).status_code == 401


@pytest.mark.django_db
def test_large_batches_pass_the_body_limit_but_not_beyond(facilitator_client):
    big = facilitator_client.post(
        "/v1/events", data="[" + " " * (2 * 1024 * 1024) + "]", content_type="application/json"
    )
    assert big.status_code == 413


@pytest.mark.django_db
def test_valid_http_event_marks_the_placement_delivered(facilitator_client):
    CampaignFactory()
    match = matched(facilitator_client)
    send(facilitator_client, event_body(match=match))
    assert process_all() == 1
    event = SettlementEvent.objects.get()
    assert event.status == SettlementEvent.Status.PROCESSED
    written()
    placement = Placement.objects.get()
    assert event.placement_id == placement.id
    assert placement.delivered_at is not None
    assert placement.state == Placement.State.DELIVERED
    assert placement.impression_at is None  # http impressions come from the beacon
    assert InvalidTraffic.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("transport", ["mcp", "a2a"])
def test_valid_mcp_and_a2a_events_verify_the_impression(facilitator_client, transport):
    CampaignFactory()
    match = matched(facilitator_client, transport=transport)
    send(facilitator_client, event_body(match=match))
    process_all()
    written()
    placement = Placement.objects.get()
    assert placement.impression_at is not None
    assert placement.state == Placement.State.IMPRESSION


@pytest.mark.django_db
def test_event_without_a_placement_is_kept_as_an_observation(facilitator_client):
    send(facilitator_client, event_body())
    process_all()
    event = SettlementEvent.objects.get()
    assert event.status == SettlementEvent.Status.PROCESSED
    assert event.placement_id is None
    assert InvalidTraffic.objects.count() == 0


def _invalid_reason() -> str:
    event = SettlementEvent.objects.get()
    assert event.status == SettlementEvent.Status.INVALID
    record = InvalidTraffic.objects.get()
    assert record.source_ref == str(event.id)
    assert record.reason == event.invalid_reason
    return record.reason


@pytest.mark.django_db
def test_event_naming_another_facilitators_placement_is_invalid(facilitator_client):
    CampaignFactory()
    match = matched(facilitator_client)
    thief = client_with(
        facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id).api_key
    )
    send(thief, event_body(match=match))
    process_all()
    assert _invalid_reason() == services.OTHER_FACILITATOR
    written()
    assert Placement.objects.get().delivered_at is None


@pytest.mark.django_db
def test_forged_tokens_are_invalid_and_lost_placements_the_networks_loss(facilitator_client):
    send(facilitator_client, event_body(1, impressionToken="forged-token"))
    unknown = tokens.encode(uuid.uuid4(), timezone.now() + dt.timedelta(hours=1))
    send(facilitator_client, event_body(2, impressionToken=unknown))
    process_all()
    reasons = dict(SettlementEvent.objects.values_list("tx_hash", "invalid_reason"))
    assert reasons == {tx(1): services.FORGED_TOKEN, tx(2): ""}
    # A token we signed for a placement PostgreSQL never received: the network's loss, not
    # invalid traffic of the facilitator.
    assert InvalidTraffic.objects.count() == 1
    assert LostPlacement.objects.get().source == LostPlacement.Source.EVENT


@pytest.mark.django_db
def test_event_for_an_expired_placement_is_invalid(facilitator_client):
    CampaignFactory()
    match = matched(facilitator_client)
    written()
    Placement.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    send(facilitator_client, event_body(match=match))
    process_all()
    assert _invalid_reason() == services.EXPIRED_PLACEMENT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"campaignId": str(uuid.uuid4())}, services.CAMPAIGN_MISMATCH),
        ({"payer": evm_address(0x9999)}, services.PAYER_MISMATCH),
        ({"network": "eip155:137"}, services.NETWORK_MISMATCH),
    ],
)
def test_events_that_do_not_fit_their_placement_are_invalid(facilitator_client, overrides, reason):
    CampaignFactory()
    match = matched(facilitator_client)
    send(facilitator_client, event_body(match=match, **overrides))
    process_all()
    assert _invalid_reason() == reason


@pytest.mark.django_db
def test_self_dealing_event_is_invalid(facilitator_client):
    campaign = CampaignFactory()
    match = matched(facilitator_client)
    # The advertiser's own wallet turns out to be the payer.
    campaign.advertiser.wallet_address = PAYER
    campaign.advertiser.save()
    send(facilitator_client, event_body(match=match))
    process_all()
    assert _invalid_reason() == services.SELF_DEALING


@pytest.mark.django_db
def test_second_event_for_a_delivered_placement_is_invalid(facilitator_client):
    CampaignFactory()
    match = matched(facilitator_client)
    send(facilitator_client, event_body(1, match=match))
    send(facilitator_client, event_body(2, match=match))
    process_all()
    statuses = dict(SettlementEvent.objects.values_list("tx_hash", "status"))
    assert statuses == {tx(1): "processed", tx(2): "invalid"}
    assert InvalidTraffic.objects.get().reason == services.DUPLICATE_DELIVERY


@pytest.mark.django_db
def test_processing_twice_applies_once(facilitator_client):
    CampaignFactory()
    match = matched(facilitator_client)
    event_id = uuid.UUID(send(facilitator_client, event_body(match=match)).json()["eventId"])
    assert services.process_event(event_id=event_id) is True
    assert services.process_event(event_id=event_id) is False
    assert SettlementEvent.objects.get().attempts == 1
    assert InvalidTraffic.objects.count() == 0


@pytest.mark.django_db
def test_poison_event_dies_after_bounded_attempts_and_others_flow(
    facilitator_client, monkeypatch, settings
):
    settings.EVENT_MAX_ATTEMPTS = 3
    poison_id = uuid.UUID(send(facilitator_client, event_body(1)).json()["eventId"])
    healthy_id = uuid.UUID(send(facilitator_client, event_body(2)).json()["eventId"])
    real_apply = services._apply

    def apply(event, now):
        if event.id == poison_id:
            raise ValueError("cannot digest this event")
        real_apply(event, now)

    monkeypatch.setattr(services, "_apply", apply)
    for _ in range(5):
        services.process_event(event_id=poison_id)
    services.process_event(event_id=healthy_id)
    poison = SettlementEvent.objects.get(pk=poison_id)
    assert poison.status == SettlementEvent.Status.DEAD
    assert poison.attempts == 3
    assert "cannot digest this event" in poison.last_error
    assert SettlementEvent.objects.get(pk=healthy_id).status == SettlementEvent.Status.PROCESSED
    # The sweeper leaves the dead alone.
    assert services.sweep_inbox(now=timezone.now() + dt.timedelta(hours=1)) == 0


@pytest.mark.django_db
def test_sweeper_redispatches_stale_pending_and_expired_leases(facilitator_client, settings):
    settings.EVENT_REDISPATCH_SECONDS = 30
    send(facilitator_client, event_body(1))
    send(facilitator_client, event_body(2))
    now = timezone.now()
    assert services.sweep_inbox(now=now) == 0  # just dispatched
    # Event 2 was claimed by a worker that died: its lease is over.
    SettlementEvent.objects.filter(tx_hash=tx(2)).update(
        status=SettlementEvent.Status.PROCESSING,
        lease_until=now - dt.timedelta(seconds=1),
        attempts=1,
    )
    later = now + dt.timedelta(seconds=31)
    assert services.sweep_inbox(now=later) == 2  # runs inline in tests: processed now
    assert set(SettlementEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert SettlementEvent.objects.get(tx_hash=tx(2)).attempts == 2


@pytest.mark.django_db
def test_sweeper_backs_off_on_a_long_backlog(facilitator_client, settings, monkeypatch):
    settings.EVENT_REDISPATCH_SECONDS = 30
    send(facilitator_client, event_body(1))
    sent = []
    monkeypatch.setattr(services, "dispatch", lambda ids: sent.append(list(ids)) or True)
    start = timezone.now()
    assert services.sweep_inbox(now=start + dt.timedelta(seconds=31)) == 1
    # Dispatched twice now: the next copy waits 60 s, not 30.
    assert services.sweep_inbox(now=start + dt.timedelta(seconds=31 + 31)) == 0
    assert services.sweep_inbox(now=start + dt.timedelta(seconds=31 + 61)) == 1
    assert len(sent) == 2


@pytest.mark.django_db
def test_events_are_dispatched_after_commit(facilitator_client, django_capture_on_commit_callbacks):
    CampaignFactory()
    match = matched(facilitator_client)
    with django_capture_on_commit_callbacks(execute=True):
        send(facilitator_client, event_body(match=match))
    # Celery runs inline in tests, so the after-commit dispatch processed it already.
    assert SettlementEvent.objects.get().status == SettlementEvent.Status.PROCESSED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_event_sent_100_times_concurrently_is_one_row(facilitator_key):
    calls, workers = 100, 25
    barrier = threading.Barrier(workers)
    body = event_body(42)

    def call(i: int):
        client = client_with(facilitator_key)
        if i < workers:
            barrier.wait()
        try:
            response = client.post("/v1/events", body, format="json")
            return response.status_code, response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = list(pool.map(call, range(calls)))
    assert {status for status, _ in answers} == {202}
    assert len({data["eventId"] for _, data in answers}) == 1
    assert SettlementEvent.objects.count() == 1
    assert EventConflict.objects.count() == 0
