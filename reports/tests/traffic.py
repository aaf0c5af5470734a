"""Generated traffic for report tests, through the real paths: the match API, settlement
events, beacons, clicks, server attribution, conversion reports and hold releases.

Time is virtual: `VirtualClock` replaces `adnet.core.clock.now`, and every service that
takes `now` is given the same moment, so traffic can be laid over several UTC days.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from adnet.core import clock
from billing import services as billing
from campaigns.models import Campaign
from conftest import client_with
from events import services as events
from facilitators import services as facilitator_services
from tests.factories import CampaignFactory, FacilitatorFactory, evm_address

BASE = "eip155:8453"
POLYGON = "eip155:137"
PAID = {
    "cpm": "https://api.example.com/v1/cpm-quote",
    "cpa": "https://api.example.com/v1/cpa-quote",
    "cpc": "https://api.example.com/v1/cpc-quote",
    "hybrid": "https://api.example.com/v1/hybrid-quote",
}
NOTHING_MATCHES = "https://api.example.com/v1/nobody-bids-on-this"
RECOMMENDED = {strategy: f"https://sponsor-{strategy}.example.net/v1/tool" for strategy in PAID}
TRANSPORTS = ("http", "mcp", "a2a")


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


class VirtualClock:
    def __init__(self, start: dt.datetime):
        self.now = start

    def at(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment


@dataclass
class World:
    clock: VirtualClock
    facilitators: list = field(default_factory=list)
    clients: list = field(default_factory=list)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    serial: int = 0

    def next(self) -> int:
        self.serial += 1
        return self.serial


def make_world(monkeypatch, start: dt.datetime) -> World:
    virtual = VirtualClock(start)
    monkeypatch.setattr(clock, "now", lambda: virtual.now)
    world = World(clock=virtual)
    for _ in range(2):
        facilitator = FacilitatorFactory()
        key = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id).api_key
        world.facilitators.append(facilitator)
        world.clients.append(client_with(key))
    for strategy, url in PAID.items():
        world.campaigns[strategy] = CampaignFactory(
            bid_strategy=strategy,
            max_bid_amount=4000,
            target_url_patterns=[url],
            rec_resource_url=RECOMMENDED[strategy],
            schedule_start=start - dt.timedelta(days=1),
        )
    return world


def match(
    world: World,
    who: int,
    *,
    url: str,
    payer: str,
    network: str,
    transport: str,
    tx_hash: str | None = None,
) -> dict:
    body = {
        "resourceUrl": url,
        "network": network,
        "payerWallet": payer,
        "settledAmount": "10000",
        "transport": transport,
    }
    if tx_hash:
        body["txHash"] = tx_hash
    response = world.clients[who].post("/v1/match", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def send_event(
    world: World,
    who: int,
    *,
    token: str,
    tx_hash: str,
    payer: str,
    network: str,
    url: str,
    at: dt.datetime,
) -> None:
    world.clock.at(at)
    [event_id] = events.ingest_events(
        facilitator_id=world.facilitators[who].id,
        items=[
            events.EventInput(
                tx_hash=tx_hash,
                network=network,
                resource_url=url,
                resource_description="",
                resource_mime_type="",
                payer=payer,
                settled_amount=10000,
                campaign_ref="",
                impression_token=token,
                occurred_at=at,
            )
        ],
        now=at,
    )
    events.process_event(event_id=event_id, now=at)


def report(
    world: World,
    who: int,
    *,
    token: str,
    original: str,
    conversion: str,
    payer: str,
    network: str,
    url: str,
    occurred_at: dt.datetime,
    at: dt.datetime,
) -> None:
    world.clock.at(at)
    billing.report_conversion(
        facilitator_id=world.facilitators[who].id,
        report=billing.ConversionInput(
            original_tx_hash=original,
            conversion_tx_hash=conversion,
            network=network,
            payer=payer,
            resource_url=url,
            settled_amount=10000,
            occurred_at=occurred_at,
            impression_token=token,
        ),
        now=at,
    )


def day_of_traffic(world: World, day: dt.date, *, slots: int = 15) -> dict[str, int]:
    """One UTC day of mixed traffic from 01:00 to about 03:00, every kind of event included.

    Returns how many of each thing were attempted, so tests can check the traffic really
    exercised every measure."""
    midnight, _ = clock.day_bounds(day)
    done = {"answered": 0, "unanswered": 0, "conversions": 0}
    strategies = [*PAID, None]
    for k in range(slots):
        n = world.next()
        t = world.clock.at(midnight + dt.timedelta(hours=1, minutes=8 * k))
        who = k % 2
        network = (BASE, POLYGON)[(k // 2) % 2]
        transport = TRANSPORTS[k % 3]
        strategy = strategies[k % len(strategies)]
        payer = evm_address(0xA0000 + n)
        settlement = tx(10_000 + n)
        answer = match(
            world,
            who,
            url=PAID[strategy] if strategy else NOTHING_MATCHES,
            payer=payer,
            network=network,
            transport=transport,
            tx_hash=settlement if k % 2 == 0 else None,
        )
        if not answer["matched"]:
            done["unanswered"] += 1
            continue
        done["answered"] += 1
        token = answer["impressionToken"]
        if k % 4 != 3:  # most placements get their settlement event
            send_event(
                world,
                who,
                token=token,
                tx_hash=settlement,
                payer=payer,
                network=network,
                url=PAID[strategy],
                at=t + dt.timedelta(minutes=1),
            )
        if transport == "http":
            world.clock.at(t + dt.timedelta(minutes=2))
            events.record_beacon(token=token, now=world.clock.now)
            if k % 3 == 0:  # a repeated beacon: duplicate_impression
                events.record_beacon(token=token, now=world.clock.now)
        if strategy == "cpc":
            world.clock.at(t + dt.timedelta(minutes=3))
            events.record_click(token=token, now=world.clock.now)
            events.record_click(token=token, now=world.clock.now)  # duplicate_click
        if strategy in ("cpa", "hybrid") and k % 4 != 1:
            # The payer pays for the recommended resource: an observed settlement that
            # the attribution task turns into a conversion.
            world.clock.at(t + dt.timedelta(minutes=5))
            match(
                world,
                who,
                url=RECOMMENDED[strategy],
                payer=payer,
                network=network,
                transport=transport,
                tx_hash=tx(90_000 + n),
            )
            billing.attribute_pending(now=t + dt.timedelta(minutes=6))
            done["conversions"] += 1
        if strategy == "cpm" and k % 2 == 1:
            # The other facilitator names this placement in an event: other_facilitator.
            send_event(
                world,
                1 - who,
                token=token,
                tx_hash=tx(50_000 + n),
                payer=payer,
                network=network,
                url=PAID[strategy],
                at=t + dt.timedelta(minutes=4),
            )
    at = world.clock.at(midnight + dt.timedelta(hours=4))
    events.record_beacon(token="not-a-token", now=at)  # forged_token, nobody's traffic
    # Every observed settlement checked for conversions, then the day's holds go back;
    # conversions still without both hashes become unbilled (no_evidence).
    billing.attribute_pending(now=at)
    billing.release_expired_holds(now=midnight + dt.timedelta(hours=5))
    world.clock.at(midnight + dt.timedelta(hours=5))
    return done


def start_of(day: dt.date) -> dt.datetime:
    return clock.day_bounds(day)[0]


def real_today() -> dt.date:
    return clock.utc_day(timezone.now())
