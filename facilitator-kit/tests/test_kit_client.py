"""The client against a local stand-in network: bounded match, the breaker, events, conversions."""

import asyncio
import time

import pytest
from kit_fake_network import MATCH, FakeNetwork, closed_port_url

from adnet_facilitator import AdNetworkClient

KEY = "adnfac_test_key"
SETTLEMENT = {
    "resource_url": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payer_wallet": "0x" + "ab" * 20,
    "settled_amount": 10000,
}


def test_match_sends_the_wire_body_and_reads_the_recommendation():
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY) as client:
        match = client.match(**SETTLEMENT, tx_hash="0x" + "1" * 64, transport="http")

        assert match is not None
        assert match.campaign_id == MATCH["campaignId"]
        assert match.impression_token == "tok123"
        assert match.sponsored_access() == {
            "delivered": True,
            "recommendations": [
                {
                    "resourceUrl": "https://weather.example.net/v1/forecast",
                    "description": "Hourly forecasts",
                    "sponsor": "Weather Co.",
                }
            ],
            "tracking": {
                "impressionBeacon": "https://ads.example.org/v1/track/impression/tok123",
                "conversionResource": "https://weather.example.net/v1/forecast",
            },
        }
        path, headers, body = net.requests[0]
        assert path == "/v1/match"
        assert headers["Authorization"] == f"Bearer {KEY}"
        assert body == {
            "resourceUrl": "https://api.example.com/v1/quote",
            "network": "eip155:8453",
            "payerWallet": "0x" + "ab" * 20,
            "settledAmount": "10000",
            "transport": "http",
            "txHash": "0x" + "1" * 64,
        }


def test_optional_recommendation_fields_are_passed_on_only_when_present():
    answer = {**MATCH, "recommendation": {**MATCH["recommendation"], "bazaarId": "bz-1"}}
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY) as client:
        net.handlers["/v1/match"] = lambda body: (200, answer)
        match = client.match(**SETTLEMENT)

    assert match.sponsored_access()["recommendations"][0]["bazaarId"] == "bz-1"
    assert "price" not in match.sponsored_access()["recommendations"][0]


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (200, {"matched": False}),
        (200, {"matched": True, "recommendation": {"resourceUrl": "x"}}),  # unusable
        (200, ["not", "an", "object"]),
        (400, {"error": {"code": "validation_error", "message": "bad", "details": {}}}),
        (401, {"error": {"code": "unauthenticated", "message": "no", "details": None}}),
        (503, {"error": {"code": "service_unavailable", "message": "later", "details": None}}),
    ],
)
def test_anything_but_a_usable_match_is_none(status, answer):
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY) as client:
        net.handlers["/v1/match"] = lambda body: (status, answer)
        assert client.match(**SETTLEMENT) is None


def test_a_slow_network_costs_at_most_the_timeout():
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY, match_timeout=0.3) as client:
        net.delay = 2.0
        started = time.perf_counter()
        match = client.match(**SETTLEMENT)
        elapsed = time.perf_counter() - started

        assert match is None
        assert 0.3 <= elapsed < 0.45
        assert client.stats().match_timeouts == 1


def test_a_down_network_fails_fast():
    with AdNetworkClient(closed_port_url(), KEY) as client:
        started = time.perf_counter()
        assert client.match(**SETTLEMENT) is None
        assert time.perf_counter() - started < 0.2
        assert client.stats().match_failures == 1


def test_the_async_match_keeps_the_event_loop_running():
    async def scenario(client):
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        started = time.perf_counter()
        match = await client.match_async(**SETTLEMENT)
        elapsed = time.perf_counter() - started
        task.cancel()
        return match, elapsed, ticks

    with FakeNetwork() as net, AdNetworkClient(net.url, KEY, match_timeout=0.3) as client:
        net.delay = 1.0
        match, elapsed, ticks = asyncio.run(scenario(client))

    assert match is None
    assert 0.3 <= elapsed < 0.45
    assert ticks >= 10  # the loop ran while the match waited


def test_the_breaker_stops_asking_a_failing_network_then_tries_again():
    with AdNetworkClient(
        closed_port_url(), KEY, breaker_threshold=3, breaker_cooldown=0.5
    ) as client:
        for _ in range(5):
            assert client.match(**SETTLEMENT) is None
        stats = client.stats()
        assert (stats.match_failures, stats.match_skipped) == (3, 2)

        time.sleep(0.6)
        client.match(**SETTLEMENT)
        assert client.stats().match_failures == 4  # asked again after the cooldown


def test_a_healthy_answer_resets_the_breaker():
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY, breaker_threshold=2) as client:
        net.handlers["/v1/match"] = lambda body: (503, None)
        client.match(**SETTLEMENT)
        net.handlers["/v1/match"] = lambda body: (200, {"matched": False})
        client.match(**SETTLEMENT)
        net.handlers["/v1/match"] = lambda body: (503, None)
        client.match(**SETTLEMENT)
        client.match(**SETTLEMENT)  # two in a row only now

        assert client.stats().match_skipped == 0
        assert client.match(**SETTLEMENT) is None
        assert client.stats().match_skipped == 1


def test_a_stale_keep_alive_connection_is_replaced():
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY, match_workers=1) as client:
        assert client.match(**SETTLEMENT) is not None
        assert client.match(**SETTLEMENT) is not None
        assert len(net.connections) == 1  # the connection was kept alive and reused

        net.drop_idle_connections()
        time.sleep(0.05)
        assert client.match(**SETTLEMENT) is not None
        assert len(net.connections) == 2
        assert len(net.bodies("/v1/match")) == 3
        assert client.stats().match_failures == 0


def test_report_conversion_returns_the_report_id():
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY) as client:
        report = client.report_conversion(
            original_tx_hash="0x" + "1" * 64,
            conversion_tx_hash="0x" + "2" * 64,
            network="eip155:8453",
            payer="0x" + "ab" * 20,
            resource_url="https://weather.example.net/v1/forecast",
            settled_amount="5000",
            impression_token="tok123",
        )
        assert report == "r-1"
        body = net.bodies("/v1/conversions")[0]
        assert body["originalTxHash"] == "0x" + "1" * 64
        assert body["conversionTxHash"] == "0x" + "2" * 64
        assert body["impressionToken"] == "tok123"
        assert body["timestamp"].endswith("Z")

    with AdNetworkClient(closed_port_url(), KEY) as client:
        assert (
            client.report_conversion(
                original_tx_hash="0x" + "1" * 64,
                conversion_tx_hash="0x" + "2" * 64,
                network="eip155:8453",
                payer="0x" + "ab" * 20,
                resource_url="https://weather.example.net/v1/forecast",
                settled_amount="5000",
            )
            is None
        )


def test_the_base_url_must_be_http():
    with pytest.raises(ValueError, match="absolute http"):
        AdNetworkClient("ads.example.org", KEY)
    with pytest.raises(ValueError, match="api_key"):
        AdNetworkClient("https://ads.example.org", "")


def test_a_failing_network_is_logged_once_not_per_settlement(caplog):
    caplog.set_level("DEBUG", logger="adnet_facilitator")
    with AdNetworkClient(closed_port_url(), KEY, breaker_threshold=1000) as client:
        for _ in range(20):
            client.match(**SETTLEMENT)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    debug = [r for r in caplog.records if r.levelname == "DEBUG"]
    assert len(warnings) == 1
    assert "Connection refused" in warnings[0].getMessage()
    assert len(debug) == 19


def test_a_closed_client_no_longer_asks():
    with FakeNetwork() as net:
        client = AdNetworkClient(net.url, KEY)
        assert client.match(**SETTLEMENT) is not None
        client.close()
        assert client.match(**SETTLEMENT) is None
        assert len(net.bodies("/v1/match")) == 1


def test_a_bug_while_reading_the_answer_is_a_failure_not_an_exception(monkeypatch):
    from adnet_facilitator import client as client_module

    def broken(response):
        raise KeyError("a bug")

    monkeypatch.setattr(client_module, "_parse_match", broken)
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY) as client:
        assert client.match(**SETTLEMENT) is None
        assert client.stats().match_failures == 1
