"""Attribution across facilitators and across a restart of every process (issue 4).

Facilitator A's settlement gets a recommendation from one server; then the web server,
the worker and Redis are all killed and started again; facilitator B then reports the
payer's payment for the recommended resource to the new server. The new worker's beat
must attribute and bill the conversion with both transaction hashes.
"""

import datetime as dt

import pytest

from billing.models import Charge, Conversion
from campaigns.models import Campaign, Placement
from facilitators import services as facilitator_services
from tests.factories import CampaignFactory, FacilitatorFactory, evm_address
from tests.support import procs

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.real_broker,
    pytest.mark.django_db(transaction=True),
]

PAID = "https://api.example.com/v1/quote"
RECOMMENDED = "https://weather.example.net/v1/forecast"
PAYER = evm_address(0xABCDEF)


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


def key_for_new_facilitator() -> str:
    facilitator = FacilitatorFactory()
    return facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id).api_key


def match_body(url: str, tx_hash: str) -> dict:
    return {
        "resourceUrl": url,
        "network": "eip155:8453",
        "payerWallet": PAYER,
        "settledAmount": "10000",
        "txHash": tx_hash,
    }


def test_conversion_through_another_facilitator_after_everything_restarted(stack):
    campaign = CampaignFactory(
        rec_resource_url=RECOMMENDED,
        target_url_patterns=[PAID],
        max_bid_amount=7000,
        schedule_start=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    stack.publish_campaigns()
    key_a, key_b = key_for_new_facilitator(), key_for_new_facilitator()
    stack.start_worker()

    status, placed, _ = procs.request(
        stack.web_port, "POST", "/v1/match", body=match_body(PAID, tx(1)), key=key_a
    )
    assert status == 200
    assert placed["matched"] is True
    assert placed["campaignId"] == str(campaign.id)
    # The worker writes the match journal to PostgreSQL within about a second; what Redis
    # still held when it died would be lost with it (a placement that then never bills).
    procs.wait_for(
        lambda: Placement.objects.filter(campaign=campaign).exists(),
        timeout=30,
        interval=0.2,
        what="the placement to reach PostgreSQL",
    )

    # Every process goes down hard, Redis with them, and comes back.
    stack.stop_all()
    stack.redis.start()
    port = stack.start_web()
    stack.start_worker()

    status, _, _ = procs.request(
        port, "POST", "/v1/match", body=match_body(RECOMMENDED, tx(2)), key=key_b
    )
    assert status == 200
    procs.wait_for(
        lambda: Conversion.objects.filter(status="billed").exists(),
        timeout=60,
        interval=0.5,
        what="the conversion to be attributed and billed",
    )

    conversion = Conversion.objects.get()
    assert conversion.original_tx_hash == tx(1)
    assert conversion.conversion_tx_hash == tx(2)
    assert conversion.converting_facilitator_id != conversion.placement.facilitator_id
    assert Charge.objects.get().amount_millis == 7_000_000
    assert Campaign.objects.get(pk=campaign.pk).spent_millis == 7_000_000
