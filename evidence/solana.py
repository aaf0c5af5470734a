"""Observing Solana transactions over JSON-RPC: status, finality, SPL token transfers."""

import datetime as dt
import re

from evidence import rpc
from evidence.facts import Observation, Transfer

_SIGNATURE = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{64,88}$")
_TOKEN_PROGRAMS = {"spl-token", "spl-token-2022"}


def is_signature(value: str) -> bool:
    return bool(_SIGNATURE.match(value))


def _key(entry: object) -> str:
    return entry["pubkey"] if isinstance(entry, dict) else str(entry)


def transfers(tx: dict) -> tuple[Transfer, ...]:
    """The SPL token transfers of a `jsonParsed` transaction, outer and inner instructions,
    each from the owner of its source account to the owner of its destination account."""
    message = tx["transaction"]["message"]
    meta = tx.get("meta") or {}
    keys = [_key(k) for k in message.get("accountKeys", ())]
    owners: dict[str, tuple[str, str]] = {}  # token account -> (owner, mint)
    for balance in (meta.get("preTokenBalances") or []) + (meta.get("postTokenBalances") or []):
        index = balance.get("accountIndex")
        if isinstance(index, int) and index < len(keys) and balance.get("owner"):
            owners[keys[index]] = (balance["owner"], balance.get("mint", ""))
    instructions = list(message.get("instructions", ()))
    for inner in meta.get("innerInstructions") or ():
        instructions.extend(inner.get("instructions", ()))
    found = []
    for instruction in instructions:
        parsed = instruction.get("parsed")
        if instruction.get("program") not in _TOKEN_PROGRAMS or not isinstance(parsed, dict):
            continue
        if parsed.get("type") not in ("transfer", "transferChecked"):
            continue
        info = parsed.get("info", {})
        source = owners.get(info.get("source", ""))
        destination = owners.get(info.get("destination", ""))
        if destination is None:
            continue
        amount = info.get("amount") or (info.get("tokenAmount") or {}).get("amount") or "0"
        found.append(
            Transfer(
                asset=info.get("mint") or destination[1],
                sender=source[0] if source else info.get("authority", ""),
                recipient=destination[0],
                amount=int(amount),
            )
        )
    return tuple(found)


def observe(
    url: str, signatures: list[str], *, commitment: str = "finalized", timeout: float
) -> dict[str, Observation]:
    """What the node at `url` says of each signature, in one batched request at
    `commitment`: a transaction not yet at that commitment is not found, for now."""
    asked = sorted({s for s in signatures if is_signature(s)})
    seen = {s: Observation.missing() for s in signatures}
    if not asked:
        return seen
    config = {
        "encoding": "jsonParsed",
        "commitment": commitment,
        "maxSupportedTransactionVersion": 0,
    }
    answers = rpc.call_batch(url, [("getTransaction", [s, config]) for s in asked], timeout)
    for signature, tx in zip(asked, answers, strict=True):
        if not tx:
            continue
        meta = tx.get("meta") or {}
        block_time = tx.get("blockTime")
        seen[signature] = Observation(
            found=True,
            succeeded=meta.get("err") is None,
            final=True,  # asked at the policy's commitment
            at=dt.datetime.fromtimestamp(block_time, dt.UTC) if block_time else None,
            transfers=transfers(tx),
        )
    return seen
