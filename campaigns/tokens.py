"""Placement tokens: a placement id and its expiry, signed so they cannot be forged or extended."""

import datetime as dt
import struct
import uuid
from dataclasses import dataclass

from adnet.core import signing

_PURPOSE = "placement-token"
_LAYOUT = struct.Struct(">16sI")  # placement UUID, expiry as unsigned Unix seconds


@dataclass(frozen=True)
class PlacementToken:
    placement_id: uuid.UUID
    expires_at: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at


def encode(placement_id: uuid.UUID, expires_at: dt.datetime) -> str:
    return signing.sign(
        _LAYOUT.pack(placement_id.bytes, int(expires_at.timestamp())), purpose=_PURPOSE
    )


def decode(token: str) -> PlacementToken | None:
    """The token's placement and expiry if we signed it, else None (forged or mangled)."""
    payload = signing.unsign(token, purpose=_PURPOSE, payload_bytes=_LAYOUT.size)
    if payload is None:
        return None
    raw_id, expiry = _LAYOUT.unpack(payload)
    return PlacementToken(
        placement_id=uuid.UUID(bytes=raw_id),
        expires_at=dt.datetime.fromtimestamp(expiry, tz=dt.UTC),
    )
