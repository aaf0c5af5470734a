"""The after-settle hook for facilitators built with the x402 Python SDK (`x402` on PyPI).

After every successful settlement it asks the ad network for a recommendation, writes it
into `SettleResponse.extensions["sponsored-access"]` (x402 carries it to the client in the
PAYMENT-RESPONSE header) and queues the settlement event. It reads the SDK's objects by
attribute only, so this module imports nothing from `x402` at run time.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adnet_facilitator.client import AdNetworkClient, Match

if TYPE_CHECKING:
    from x402 import x402Facilitator, x402FacilitatorSync
    from x402.schemas import SettleResultContext

logger = logging.getLogger("adnet_facilitator")

EXTENSION_KEY = "sponsored-access"

# x402 v1 names its networks; the ad network speaks CAIP-2 only (wire-contract, networks).
V1_NETWORKS = {
    "base": "eip155:8453",
    "base-sepolia": "eip155:84532",
    "polygon": "eip155:137",
    "avalanche": "eip155:43114",
    "solana": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "solana-devnet": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
}


@dataclass(frozen=True)
class Settlement:
    """What the ad network needs to know about one successful settlement."""

    resource_url: str
    resource_description: str | None
    mime_type: str | None
    network: str
    payer: str
    amount: str
    tx_hash: str | None
    settled_at: dt.datetime


class SponsoredAccessHook:
    """`on_after_settle` hook: match, inject the recommendation, report the event.

    It never raises. The SDK treats an exception in an after-settle hook as a failed
    settlement, and a payment that has already moved must not be reported as failed
    because an ad could not be shown.
    """

    def __init__(
        self, client: AdNetworkClient, *, transport: str = "http", report_events: bool = True
    ):
        self.client = client
        self.transport = transport
        self.report_events = report_events

    def __call__(self, context: SettleResultContext) -> None:
        """The hook for `x402FacilitatorSync` (blocks for at most the match timeout)."""
        try:
            settlement = settlement_of(context)
            if settlement is None:
                return
            match = self.client.match(**self._match_args(settlement))
            self._apply(context, settlement, match)
        except Exception:
            logger.exception("adnet: the sponsored-access hook failed; settlement unchanged")

    async def after_settle_async(self, context: SettleResultContext) -> None:
        """The hook for `x402Facilitator`: the event loop keeps running while it waits."""
        try:
            settlement = settlement_of(context)
            if settlement is None:
                return
            match = await self.client.match_async(**self._match_args(settlement))
            self._apply(context, settlement, match)
        except Exception:
            logger.exception("adnet: the sponsored-access hook failed; settlement unchanged")

    def _match_args(self, settlement: Settlement) -> dict[str, Any]:
        return {
            "resource_url": settlement.resource_url,
            "resource_description": settlement.resource_description,
            "network": settlement.network,
            "payer_wallet": settlement.payer,
            "settled_amount": settlement.amount,
            "transport": self.transport,
            # The network bills conversions only with both transaction hashes; this is one.
            "tx_hash": settlement.tx_hash,
        }

    def _apply(
        self, context: SettleResultContext, settlement: Settlement, match: Match | None
    ) -> None:
        if match is None:
            return
        result = context.result
        extensions = dict(result.extensions or {})
        extensions[EXTENSION_KEY] = match.sponsored_access()
        result.extensions = extensions
        if self.report_events and settlement.tx_hash:
            self.client.send_event(
                tx_hash=settlement.tx_hash,
                network=settlement.network,
                resource_url=settlement.resource_url,
                resource_description=settlement.resource_description,
                mime_type=settlement.mime_type,
                payer=settlement.payer,
                settled_amount=settlement.amount,
                campaign_id=match.campaign_id,
                impression_token=match.impression_token,
                timestamp=settlement.settled_at,
            )


def attach(
    facilitator: x402Facilitator | x402FacilitatorSync,
    client: AdNetworkClient,
    *,
    transport: str = "http",
    report_events: bool = True,
) -> SponsoredAccessHook:
    """Register the hook on an x402 facilitator, the async or the sync variant."""
    hook = SponsoredAccessHook(client, transport=transport, report_events=report_events)
    if inspect.iscoroutinefunction(facilitator.settle):
        facilitator.on_after_settle(hook.after_settle_async)
    else:
        facilitator.on_after_settle(hook)
    return hook


def settlement_of(context: Any) -> Settlement | None:
    """The settlement described by an x402 SettleResultContext (v2 or v1), or None."""
    result = getattr(context, "result", None)
    if result is None or not getattr(result, "success", False):
        return None
    payload = context.payment_payload
    requirements = context.requirements
    resource = getattr(payload, "resource", None)
    if resource is not None:  # v2: the resource travels in the payload
        url = resource.url
        description = getattr(resource, "description", None)
        mime_type = getattr(resource, "mime_type", None)
        amount = result.amount or getattr(requirements, "amount", None)
    else:  # v1: it is part of the requirements
        url = getattr(requirements, "resource", None)
        description = getattr(requirements, "description", None)
        mime_type = getattr(requirements, "mime_type", None)
        amount = result.amount or getattr(requirements, "max_amount_required", None)
    network = str(result.network or getattr(requirements, "network", "") or "")
    network = V1_NETWORKS.get(network, network)
    payer = result.payer
    if not (url and payer and amount and ":" in network):
        logger.debug("adnet: settlement without resource, payer, amount or network: skipped")
        return None
    return Settlement(
        resource_url=url,
        resource_description=description or None,
        mime_type=mime_type or None,
        network=network,
        payer=payer,
        amount=str(amount),
        tx_hash=result.transaction or None,
        settled_at=dt.datetime.now(dt.timezone.utc),
    )
