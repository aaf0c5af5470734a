"""The whole loop, for real (issue 8): an agent pays, sees a recommendation, converts, is billed.

The ad network runs as uWSGI, a Celery worker with beat and a private Redis on
PostgreSQL; the facilitator is the x402 SDK's own (sync and async) with the kit's hook; the
resource server is the SDK's Flask middleware; the agent is the SDK's httpx client. Only
the payment scheme is a stand-in (no blockchain). Then the same payment with the ad
network hung or gone: the settlement goes through, later by at most the match timeout.
"""

import pytest
from adnet_facilitator import DEFAULT_MATCH_TIMEOUT, AdNetworkClient, attach
from x402 import x402Facilitator, x402FacilitatorSync

from billing.models import Charge, Conversion
from campaigns.models import Placement
from events.models import SettlementEvent
from tests.e2e.x402_world import (
    NETWORK,
    Agent,
    BlackHole,
    FacilitatorService,
    LedgerFacilitatorScheme,
    Resource,
    ResourceServer,
)
from tests.factories import evm_address
from tests.support import procs

QUOTE = Resource("/quote", "https://api.example.com/v1/quote", "Live quotes", "10000")
FORECAST = Resource(
    "/forecast", "https://weather.example.net/v1/forecast", "Hourly forecasts", "5000"
)
PAYER = evm_address(0xA6E7)
FACILITATORS = [
    pytest.param(x402FacilitatorSync, id="x402FacilitatorSync"),
    pytest.param(x402Facilitator, id="x402Facilitator"),
]


class World:
    """A facilitator with the hook, a resource server selling QUOTE and FORECAST, an agent."""

    def __init__(self, facilitator_class, network_url: str, key: str):
        self.facilitator = facilitator_class()
        self.facilitator.register([NETWORK], LedgerFacilitatorScheme())
        self.client = AdNetworkClient(network_url, key, event_linger=0.05)
        attach(self.facilitator, self.client)
        self.service = FacilitatorService(self.facilitator)
        self.resources = ResourceServer(self.service.url, [QUOTE, FORECAST])
        self.agent = Agent(PAYER, self.resources.local_url)

    def stop(self) -> None:
        self.resources.stop()
        self.service.stop()
        self.client.close(timeout=2)


@pytest.fixture
def world_for():
    worlds = []

    def make(facilitator_class, network_url: str, key: str = "adnfac_unused_key") -> World:
        worlds.append(World(facilitator_class, network_url, key))
        return worlds[-1]

    yield make
    for world in worlds:
        world.stop()


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.real_broker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("facilitator_class", FACILITATORS)
def test_pay_see_recommendation_fire_beacon_convert_and_bill(adnet, world_for, facilitator_class):
    campaign_id = adnet.create_campaign(rec_url=FORECAST.canonical_url, target=QUOTE.canonical_url)
    world = world_for(facilitator_class, adnet.url, adnet.facilitator_key)

    # 1. The agent pays for the quote; the receipt carries the sponsored recommendation.
    first = world.agent.pay(QUOTE.canonical_url)
    assert first.status == 200, first.body
    assert first.body == {"served": QUOTE.canonical_url}
    assert first.settlement.success is True
    tx_a = first.settlement.transaction
    sponsored = first.sponsored_access
    assert sponsored is not None, first.settlement
    beacon = sponsored["tracking"]["impressionBeacon"]
    assert sponsored == {
        "delivered": True,
        "recommendations": [
            {
                "resourceUrl": FORECAST.canonical_url,
                "description": "Hourly forecasts",
                "sponsor": "Weather Co.",
            }
        ],
        "tracking": {"impressionBeacon": beacon, "conversionResource": FORECAST.canonical_url},
    }
    assert beacon.startswith(f"{adnet.url}/v1/track/impression/")

    # 2. The agent fires the beacon, as client SDKs do.
    assert Agent.fire_beacon(beacon) == 204

    # 3. It pays for the recommended resource; the ledger settles it with its own hash.
    second = world.agent.pay(sponsored["recommendations"][0]["resourceUrl"])
    assert second.status == 200, second.body
    assert second.body == {"served": FORECAST.canonical_url}
    tx_b = second.settlement.transaction
    assert tx_b != tx_a
    assert second.sponsored_access is None  # nothing targets the forecast

    # 4. The settlement event went out in the background and was processed.
    assert world.client.flush(timeout=10)
    procs.wait_for(
        lambda: SettlementEvent.objects.filter(
            tx_hash=tx_a, status=SettlementEvent.Status.PROCESSED
        ).exists(),
        timeout=30,
        interval=0.2,
        what="the settlement event of the first payment to be processed",
    )

    # 5. The beat's attribution finds the conversion with both hashes, and bills it.
    procs.wait_for(
        lambda: Conversion.objects.filter(status=Conversion.Status.BILLED).exists(),
        timeout=30,
        interval=0.2,
        what="the conversion to be attributed and billed",
    )
    conversion = Conversion.objects.select_related("placement").get()
    assert str(conversion.campaign_id) == campaign_id
    assert (conversion.original_tx_hash, conversion.conversion_tx_hash) == (tx_a, tx_b)
    assert conversion.payer == PAYER
    assert conversion.resource_url == FORECAST.canonical_url
    placement = Placement.objects.get(pk=conversion.placement_id)
    assert placement.delivered_at is not None  # from the settlement event
    assert placement.impression_at is not None  # from the beacon
    assert Charge.objects.get(placement=placement).amount_millis == 7000 * 1000

    # 6. The facilitator may also report it: the network confirms the one it found.
    report_id = world.client.report_conversion(
        original_tx_hash=tx_a,
        conversion_tx_hash=tx_b,
        network=NETWORK,
        payer=PAYER,
        resource_url=FORECAST.canonical_url,
        settled_amount=FORECAST.price,
        impression_token=beacon.rsplit("/", 1)[1],
    )
    assert report_id is not None
    assert Conversion.objects.count() == 1
    assert Charge.objects.count() == 1
    stats = world.client.stats()
    assert (stats.matched, stats.unmatched, stats.match_failures) == (1, 1, 0)
    assert (stats.events.sent, stats.events.dropped, stats.events.failed) == (1, 0, 0)


@pytest.mark.e2e
@pytest.mark.parametrize("facilitator_class", FACILITATORS)
@pytest.mark.parametrize("outage", ["hung", "down"])
def test_the_payment_settles_without_a_recommendation_when_the_network_fails(
    world_for, facilitator_class, outage
):
    hole = BlackHole()
    try:
        url = hole.url if outage == "hung" else procs_closed_port_url()
        world = world_for(facilitator_class, url)

        paid = world.agent.pay(QUOTE.canonical_url)
    finally:
        hole.stop()

    assert paid.status == 200, paid.body
    assert paid.settlement.success is True
    assert paid.settlement.transaction.startswith("0x")
    assert paid.sponsored_access is None
    [settle_seconds] = world.service.settle_seconds
    print(
        f"\n{outage} network: settle {settle_seconds * 1000:.1f} ms, "
        f"the agent's paid request {paid.seconds * 1000:.1f} ms"
    )
    if outage == "hung":
        # The default timeout, and not a moment more: the placement is lost, the sale is not.
        assert DEFAULT_MATCH_TIMEOUT <= settle_seconds < DEFAULT_MATCH_TIMEOUT + 0.25
        assert world.client.stats().match_timeouts == 1
    else:
        assert settle_seconds < 0.1  # a refused connection costs next to nothing
        assert world.client.stats().match_failures == 1
    assert paid.seconds < settle_seconds + 1.0


def procs_closed_port_url() -> str:
    return f"http://127.0.0.1:{procs.free_port()}"
