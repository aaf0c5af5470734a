"""Which chain answers for which CAIP-2 network, and the one entry point that verifies claims.

Configured from the environment (adnet/settings.py): `CHAIN_RPC_URLS` names a JSON-RPC URL
per network, `CHAIN_CONFIRMATIONS` how deep an EVM transaction must be, `CHAIN_ASSETS` the
token that counts (USDC by default), `CHAIN_POLICIES` what a network without an RPC does
(`required`: wait, then expire unbilled; `trusted`: bill as unverified)."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from adnet.core import networks
from evidence import evm, rpc, solana
from evidence.facts import Claim, Observation
from evidence.judge import Verdict, judge

# Circle's USDC on the networks the wire contract names (public contract addresses).
USDC = {
    "eip155:8453": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913",
    "eip155:84532": "0x036cbd53842c5426634e7929541ec2318f3dcf7e",
    "eip155:137": "0x3c499c542cef5e3811e1192ce70d8cc03d5c3359",
    "eip155:43114": "0xb97ef9ef8734c71904d8002f8b6bc66dd9c48a6e",
    "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
    "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1": "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
}
DEFAULT_EVM_CONFIRMATIONS = 3
REQUIRED = "required"
TRUSTED = "trusted"
POLICIES = (REQUIRED, TRUSTED)

logger = logging.getLogger(__name__)


class NotConfigured(Exception):
    """No RPC is configured for the network: its policy decides."""


@dataclass(frozen=True)
class Chain:
    network: str
    rpc_url: str | None
    asset: str | None
    confirmations: int
    policy: str
    timeout: float

    def observe(self, tx_hashes: list[str]) -> dict[str, Observation]:
        """RpcUnavailable/RpcError propagate; NotConfigured without an RPC URL."""
        if not self.rpc_url:
            raise NotConfigured(self.network)
        if networks.namespace(self.network) == "eip155":
            return evm.observe(
                self.rpc_url, tx_hashes, confirmations=self.confirmations, timeout=self.timeout
            )
        if networks.namespace(self.network) == "solana":
            return solana.observe(self.rpc_url, tx_hashes, timeout=self.timeout)
        raise NotConfigured(self.network)

    def canonical_hash(self, tx_hash: str) -> str:
        """EVM hashes are hex, compared lower-cased; Solana signatures are case-sensitive."""
        return tx_hash.lower() if networks.namespace(self.network) == "eip155" else tx_hash


def chain(network: str) -> Chain:
    asset = settings.CHAIN_ASSETS.get(network) or USDC.get(network)
    if asset and networks.namespace(network) == "eip155":
        asset = asset.lower()
    return Chain(
        network=network,
        rpc_url=settings.CHAIN_RPC_URLS.get(network),
        asset=asset,
        confirmations=int(settings.CHAIN_CONFIRMATIONS.get(network, DEFAULT_EVM_CONFIRMATIONS)),
        policy=settings.CHAIN_POLICIES.get(network, settings.CHAIN_DEFAULT_POLICY),
        timeout=settings.CHAIN_RPC_TIMEOUT_SECONDS,
    )


def verify(claims: Iterable[Claim]) -> dict[Claim, Verdict]:
    """Each claim's verdict, one batch of RPC calls per network. A network whose node cannot
    be asked (or has no RPC) is left out of the answer: nothing is decided for it."""
    by_network: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_network[claim.network].append(claim)
    verdicts: dict[Claim, Verdict] = {}
    for network, group in by_network.items():
        where = chain(network)
        try:
            seen = where.observe([c.tx_hash for c in group])
        except (rpc.RpcUnavailable, rpc.RpcError, NotConfigured) as exc:
            logger.warning("chain %s not asked: %s", network, exc)
            continue
        for claim in group:
            observation = seen.get(where.canonical_hash(claim.tx_hash), Observation.missing())
            verdicts[claim] = judge(claim, observation)
    return verdicts
