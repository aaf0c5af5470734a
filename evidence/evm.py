"""Observing EVM transactions over JSON-RPC: receipt, depth, block time, ERC-20 transfers."""

import datetime as dt
import re

from evidence import rpc
from evidence.facts import Observation, Transfer

# keccak256("Transfer(address,address,uint256)"), the ERC-20 event every USDC move emits.
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


def is_tx_hash(value: str) -> bool:
    return bool(_TX_HASH.match(value))


def _address(topic: str) -> str:
    return "0x" + topic[-40:].lower()


def transfers(receipt: dict) -> tuple[Transfer, ...]:
    """The ERC-20 Transfer events in a receipt's logs, in log order."""
    found = []
    for log in receipt.get("logs") or ():
        topics = log.get("topics") or ()
        if len(topics) != 3 or topics[0].lower() != TRANSFER_TOPIC:
            continue  # not an ERC-20 Transfer (ERC-721's has 4 topics)
        found.append(
            Transfer(
                asset=log["address"].lower(),
                sender=_address(topics[1]),
                recipient=_address(topics[2]),
                amount=int(log.get("data") or "0x0", 16),
            )
        )
    return tuple(found)


def observe(
    url: str, tx_hashes: list[str], *, confirmations: int, timeout: float
) -> dict[str, Observation]:
    """What the node at `url` says of each hash, in two batched requests.

    A hash that is not a well-formed transaction hash is not asked about: it is missing.
    RpcUnavailable and RpcError propagate: nothing is decided when the node cannot answer."""
    asked = sorted({h.lower() for h in tx_hashes if is_tx_hash(h)})
    seen = {h: Observation.missing() for h in {h.lower() for h in tx_hashes}}
    if not asked:
        return seen
    answers = rpc.call_batch(
        url,
        [("eth_blockNumber", [])] + [("eth_getTransactionReceipt", [h]) for h in asked],
        timeout,
    )
    head = int(answers[0], 16)
    receipts = {h: r for h, r in zip(asked, answers[1:], strict=True) if r}
    blocks = sorted({r["blockNumber"] for r in receipts.values() if r.get("blockNumber")})
    block_times = {}
    if blocks:
        headers = rpc.call_batch(
            url, [("eth_getBlockByNumber", [number, False]) for number in blocks], timeout
        )
        block_times = {
            number: dt.datetime.fromtimestamp(int(header["timestamp"], 16), dt.UTC)
            for number, header in zip(blocks, headers, strict=True)
            if header
        }
    for tx_hash, receipt in receipts.items():
        number = receipt.get("blockNumber")
        if not number or number not in block_times:
            continue  # pending, or its block reorganised away between the two requests
        depth = head - int(number, 16) + 1
        seen[tx_hash] = Observation(
            found=True,
            succeeded=int(receipt.get("status") or "0x0", 16) == 1,
            final=depth >= confirmations,
            at=block_times[number],
            transfers=transfers(receipt),
        )
    return seen
