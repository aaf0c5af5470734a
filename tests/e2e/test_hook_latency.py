"""What the hook adds to a settlement (issue 8's acceptance), measured on the real ad network.

An x402 facilitator settles in-process with the ledger scheme, with and without the hook;
the ad network is uWSGI on PostgreSQL and Redis. With the network up the hook may add
one match round trip (measured on its own in the same run); with the network down it may
add the refused connection, and once the breaker has opened, nothing; hung, at most the
match timeout. Run with `-s` to see the figures (docs/benchmarks.md records them).
"""

import asyncio
import datetime as dt
import functools
import statistics
import time
import uuid
from collections.abc import Callable

import pytest
from adnet_facilitator import AdNetworkClient, attach
from x402 import x402Facilitator, x402FacilitatorSync
from x402.schemas import PaymentPayload, PaymentRequirements, ResourceInfo

from facilitators import services as facilitator_services
from tests.e2e.x402_world import NETWORK, PAY_TO, SCHEME, USDC, BlackHole, LedgerFacilitatorScheme
from tests.factories import CampaignFactory, FacilitatorFactory, evm_address
from tests.support import procs

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.real_broker,
    pytest.mark.django_db(transaction=True),
]

N = 100
PAID = "https://api.example.com/v1/quote"
HUNG_TIMEOUT = 0.5  # seconds; the loop test proves the default (2 s), this keeps CI short
BREAKER = 5


class Payments:
    """Fresh payments, each by its own payer so that frequency caps never decide a match."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> tuple[PaymentPayload, PaymentRequirements]:
        self.count += 1
        requirements = PaymentRequirements(
            scheme=SCHEME,
            network=NETWORK,
            asset=USDC,
            amount="10000",
            pay_to=PAY_TO,
            max_timeout_seconds=60,
        )
        payload = PaymentPayload(
            payload={
                "payer": evm_address(0xB000000 + self.count),
                "nonce": uuid.uuid4().hex,
                "amount": "10000",
            },
            accepted=requirements,
            resource=ResourceInfo(url=PAID, description="Live quotes"),
        )
        return payload, requirements


def settle_times(facilitator, payments: Payments, n: int) -> list[float]:
    """Seconds per settle, one after another, as one facilitator process would serve them."""
    if isinstance(facilitator, x402Facilitator):

        async def run() -> list[float]:
            times = []
            for _ in range(n):
                payload, requirements = payments.next()
                started = time.perf_counter()
                result = await facilitator.settle(payload, requirements)
                times.append(time.perf_counter() - started)
                assert result.success
            return times

        return asyncio.run(run())
    times = []
    for _ in range(n):
        payload, requirements = payments.next()
        started = time.perf_counter()
        result = facilitator.settle(payload, requirements)
        times.append(time.perf_counter() - started)
        assert result.success
    return times


def facilitator_of(cls, client: AdNetworkClient | None):
    facilitator = cls()
    facilitator.register([NETWORK], LedgerFacilitatorScheme())
    if client is not None:
        attach(facilitator, client)
    return facilitator


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


class Table:
    def __init__(self) -> None:
        self.rows: list[str] = []

    def add(self, facilitator: str, case: str, times: list[float], bare: float) -> None:
        p50 = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) >= 10 else max(times)
        self.rows.append(
            f"| {facilitator} | {case} | {len(times)} | {ms(p50)} | {ms(p90)} | "
            f"{ms(max(times))} | {ms(p50 - bare)} |"
        )

    def print(self) -> None:
        print("\n| facilitator | case | settles | p50 ms | p90 ms | max ms | added p50 ms |")
        print("|---|---|---:|---:|---:|---:|---:|")
        print("\n".join(self.rows))


@pytest.fixture
def network(stack):
    """The ad network (uWSGI, PostgreSQL, Redis), a facilitator key and a live campaign."""
    CampaignFactory(
        rec_resource_url="https://weather.example.net/v1/forecast",
        target_url_patterns=[PAID],
        max_bid_amount=1000,
        budget_total=10**12,
        budget_daily=10**12,
        schedule_start=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    stack.publish_campaigns()
    facilitator = FacilitatorFactory()
    key = facilitator_services.issue_facilitator_key(facilitator_id=facilitator.id).api_key
    return f"http://127.0.0.1:{stack.web_port}", key


def test_the_hook_adds_one_match_round_trip_and_nothing_when_the_network_is_gone(network):
    url, key = network
    payments = Payments()
    table = Table()
    closed = f"http://127.0.0.1:{procs.free_port()}"
    hole = BlackHole()
    clients: list[AdNetworkClient] = []

    def client(base: str, **options) -> AdNetworkClient:
        clients.append(AdNetworkClient(base, key, **options))
        return clients[-1]

    try:
        for cls, name in ((x402FacilitatorSync, "sync"), (x402Facilitator, "async")):
            # Warm up: connections, the server's campaign snapshot, the SDK's code paths.
            settle_times(facilitator_of(cls, client(url)), payments, 10)

            bare_times = settle_times(facilitator_of(cls, None), payments, N)
            bare = statistics.median(bare_times)
            table.add(name, "no hook", bare_times, bare)

            # The match alone and a settle with the hook, taken in turns so that both see
            # the same load on this machine.
            probe, up = client(url), client(url)
            hooked = facilitator_of(cls, up)
            timed(functools.partial(match_alone, probe, payments), 10)
            match_times, up_times = [], []
            for _ in range(N):
                match_times += timed(functools.partial(match_alone, probe, payments), 1)
                up_times += settle_times(hooked, payments, 1)
            assert probe.stats().matched == N + 10, probe.stats()
            assert up.stats().matched == N, up.stats()
            match = statistics.median(match_times)
            table.add(name, "match call alone (kit client)", match_times, 0.0)
            table.add(name, "hook, network up (every settle matched)", up_times, bare)
            # At most the round trip: a small allowance for the thread hand-off and the event.
            assert statistics.median(up_times) - bare <= match * 1.25 + 0.002

            down = client(closed, breaker_threshold=10**9)
            down_times = settle_times(facilitator_of(cls, down), payments, N)
            table.add(name, "hook, network down (port closed, no breaker)", down_times, bare)
            assert statistics.median(down_times) - bare < 0.005

            broken = client(closed)
            broken_times = settle_times(facilitator_of(cls, broken), payments, N)
            assert broken.stats().match_skipped == N - BREAKER
            table.add(name, "hook, network down (default breaker)", broken_times, bare)
            assert statistics.median(broken_times[BREAKER:]) - bare < 0.001

        hung = client(hole.url, match_timeout=HUNG_TIMEOUT)
        hung_times = settle_times(facilitator_of(x402FacilitatorSync, hung), payments, 20)
        table.add("sync", f"hook, network hung ({HUNG_TIMEOUT} s timeout)", hung_times, bare)
        assert max(hung_times) < HUNG_TIMEOUT + 0.15
        assert hung.stats().match_timeouts == BREAKER
        assert statistics.median(hung_times[BREAKER:]) - bare < 0.001
    finally:
        hole.stop()
        for each in clients:
            each.close(timeout=2)
    table.print()


def match_alone(client: AdNetworkClient, payments: Payments) -> object:
    """The same request the hook makes (with the transaction hash), without the hook."""
    payload, _ = payments.next()
    return client.match(
        resource_url=PAID,
        resource_description="Live quotes",
        network=NETWORK,
        payer_wallet=payload.payload["payer"],
        settled_amount="10000",
        transport="http",
        tx_hash="0x" + uuid.uuid4().hex * 2,
    )


def timed(call: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times
