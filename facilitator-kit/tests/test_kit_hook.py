"""The after-settle hook inside real x402 SDK facilitators, against a local stand-in network."""

import asyncio
import hashlib
import time

import pytest
from kit_fake_network import MATCH, FakeNetwork, closed_port_url
from x402 import x402Facilitator, x402FacilitatorSync
from x402.schemas import (
    PaymentPayload,
    PaymentRequirements,
    ResourceInfo,
    SettleResponse,
    VerifyResponse,
)

from adnet_facilitator import EXTENSION_KEY, AdNetworkClient, attach

KEY = "adnfac_test_key"
NETWORK = "eip155:8453"
PAYER = "0x" + "ab" * 20


class InstantScheme:
    """Settles without a chain: the transaction hash is a digest of the payment's nonce."""

    scheme = "instant"
    caip_family = "eip155:*"

    def get_extra(self, network):
        return None

    def get_signers(self, network):
        return []

    def verify(self, payload, requirements, context=None):
        return VerifyResponse(is_valid=True, payer=payload.payload["payer"])

    def settle(self, payload, requirements, context=None):
        tx = "0x" + hashlib.sha256(payload.payload["nonce"].encode()).hexdigest()
        return SettleResponse(
            success=True,
            payer=payload.payload["payer"],
            transaction=tx,
            network=requirements.network,
            amount=requirements.amount,
        )


def payment(nonce: str = "n-1") -> tuple[PaymentPayload, PaymentRequirements]:
    requirements = PaymentRequirements(
        scheme="instant",
        network=NETWORK,
        asset="0x" + "cc" * 20,
        amount="10000",
        pay_to="0x" + "dd" * 20,
        max_timeout_seconds=60,
    )
    payload = PaymentPayload(
        payload={"payer": PAYER, "nonce": nonce},
        accepted=requirements,
        resource=ResourceInfo(
            url="https://api.example.com/v1/quote",
            description="Quotes",
            mime_type="application/json",
        ),
    )
    return payload, requirements


def settle(facilitator, payload, requirements):
    if isinstance(facilitator, x402Facilitator):
        return asyncio.run(facilitator.settle(payload, requirements))
    return facilitator.settle(payload, requirements)


@pytest.fixture(params=[x402FacilitatorSync, x402Facilitator], ids=["sync", "async"])
def facilitator(request):
    instance = request.param()
    instance.register([NETWORK], InstantScheme())
    return instance


def test_the_recommendation_is_injected_and_the_event_reported(facilitator):
    with FakeNetwork() as net:
        client = AdNetworkClient(net.url, KEY, event_linger=0)
        attach(facilitator, client)
        payload, requirements = payment()

        result = settle(facilitator, payload, requirements)
        assert client.flush(timeout=5)
        client.close()

    assert result.success is True
    assert result.extensions[EXTENSION_KEY] == {
        "delivered": True,
        "recommendations": [MATCH["recommendation"]],
        "tracking": {
            "impressionBeacon": MATCH["impressionBeacon"],
            "conversionResource": MATCH["conversionResource"],
        },
    }
    # The wire form the facilitator's HTTP answer carries (camelCase, as x402 serializes).
    wire = result.model_dump(by_alias=True, exclude_none=True)
    assert wire["extensions"][EXTENSION_KEY]["tracking"]["impressionBeacon"].endswith("tok123")

    [match_body] = net.bodies("/v1/match")
    assert match_body == {
        "resourceUrl": "https://api.example.com/v1/quote",
        "resourceDescription": "Quotes",
        "network": NETWORK,
        "payerWallet": PAYER,
        "settledAmount": "10000",
        "transport": "http",
        "txHash": result.transaction,
    }
    [[event]] = net.bodies("/v1/events")
    assert event["txHash"] == result.transaction
    assert event["campaignId"] == MATCH["campaignId"]
    assert event["impressionToken"] == MATCH["impressionToken"]
    assert event["resource"] == {
        "url": "https://api.example.com/v1/quote",
        "description": "Quotes",
        "mimeType": "application/json",
    }


def test_existing_extensions_are_kept(facilitator):
    class WithExtension(InstantScheme):
        def settle(self, payload, requirements, context=None):
            response = super().settle(payload, requirements, context)
            response.extensions = {"other": {"kept": True}}
            return response

    facilitator._schemes.clear()
    facilitator.register([NETWORK], WithExtension())
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY) as client:
        attach(facilitator, client)
        result = settle(facilitator, *payment())
    assert result.extensions["other"] == {"kept": True}
    assert EXTENSION_KEY in result.extensions


def test_no_match_leaves_the_settlement_as_it_was(facilitator):
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY, event_linger=0) as client:
        net.handlers["/v1/match"] = lambda body: (200, {"matched": False})
        attach(facilitator, client)
        result = settle(facilitator, *payment())
        client.flush(timeout=2)
        assert net.bodies("/v1/events") == []
    assert result.success is True
    assert result.extensions is None


@pytest.mark.parametrize("failure", ["slow", "down", "garbage", "hook_bug"])
def test_the_settlement_succeeds_whatever_the_network_does(facilitator, failure):
    with FakeNetwork() as net:
        url = closed_port_url() if failure == "down" else net.url
        client = AdNetworkClient(url, KEY, match_timeout=0.3)
        if failure == "slow":
            net.delay = 2.0
        if failure == "garbage":
            net.handlers["/v1/match"] = lambda body: (200, {"matched": True, "recommendation": 7})
        if failure == "hook_bug":
            client.match = client.match_async = _explode
        attach(facilitator, client)

        started = time.perf_counter()
        result = settle(facilitator, *payment())
        elapsed = time.perf_counter() - started
        client.close(timeout=0.5)

    assert result.success is True
    assert result.transaction.startswith("0x")
    assert result.extensions is None
    assert elapsed < 0.45


def test_failed_settlements_are_not_matched(facilitator):
    class Failing(InstantScheme):
        def settle(self, payload, requirements, context=None):
            return SettleResponse(
                success=False, error_reason="insufficient_funds", transaction="", network=NETWORK
            )

    facilitator._schemes.clear()
    facilitator.register([NETWORK], Failing())
    with FakeNetwork() as net, AdNetworkClient(net.url, KEY) as client:
        attach(facilitator, client)
        result = settle(facilitator, *payment())
        assert net.bodies("/v1/match") == []
    assert result.success is False


def test_v1_network_names_are_sent_as_caip2():
    from x402.schemas import SettleResultContext
    from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

    from adnet_facilitator.x402_hook import settlement_of

    requirements = PaymentRequirementsV1(
        scheme="exact",
        network="base-sepolia",
        max_amount_required="2500",
        resource="https://api.example.com/v1/quote",
        description="Quotes",
        pay_to="0x" + "dd" * 20,
        max_timeout_seconds=60,
        asset="0x" + "cc" * 20,
    )
    context = SettleResultContext(
        payment_payload=PaymentPayloadV1(scheme="exact", network="base-sepolia", payload={}),
        requirements=requirements,
        result=SettleResponse(
            success=True, payer=PAYER, transaction="0x" + "1" * 64, network="base-sepolia"
        ),
    )
    settlement = settlement_of(context)
    assert settlement.network == "eip155:84532"
    assert settlement.amount == "2500"
    assert settlement.resource_url == "https://api.example.com/v1/quote"


def _explode(**kwargs):
    raise RuntimeError("a bug in the hook")
