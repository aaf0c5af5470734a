"""Placement tokens: a placement, its campaign and its expiry, signed so they cannot be forged
or extended.

The campaign is in the token so that a follow-up for a placement the network lost (never
written to PostgreSQL) can still be sent to the campaign's resource and counted against the
right campaign. Tokens signed before it was added (placement and expiry only) still decode.
"""

import datetime as dt
import struct
import uuid
from dataclasses import dataclass

from adnet.core import signing

_PURPOSE = "placement-token"
# Placement UUID, campaign UUID, expiry as unsigned Unix seconds.
_LAYOUT = struct.Struct(">16s16sI")
_LAYOUT_WITHOUT_CAMPAIGN = struct.Struct(">16sI")


@dataclass(frozen=True)
class PlacementToken:
    placement_id: uuid.UUID
    expires_at: dt.datetime
    campaign_id: uuid.UUID | None = None

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at


def encode(
    placement_id: uuid.UUID, expires_at: dt.datetime, campaign_id: uuid.UUID | None = None
) -> str:
    expiry = int(expires_at.timestamp())
    if campaign_id is None:
        payload = _LAYOUT_WITHOUT_CAMPAIGN.pack(placement_id.bytes, expiry)
    else:
        payload = _LAYOUT.pack(placement_id.bytes, campaign_id.bytes, expiry)
    return signing.sign(payload, purpose=_PURPOSE)


def decode(token: str) -> PlacementToken | None:
    """The token's placement, campaign and expiry if we signed it, else None (forged or
    mangled)."""
    payload = signing.unsign(token, purpose=_PURPOSE, payload_bytes=_LAYOUT.size)
    if payload is not None:
        raw_id, raw_campaign, expiry = _LAYOUT.unpack(payload)
        campaign_id = uuid.UUID(bytes=raw_campaign)
    else:
        payload = signing.unsign(
            token, purpose=_PURPOSE, payload_bytes=_LAYOUT_WITHOUT_CAMPAIGN.size
        )
        if payload is None:
            return None
        raw_id, expiry = _LAYOUT_WITHOUT_CAMPAIGN.unpack(payload)
        campaign_id = None
    return PlacementToken(
        placement_id=uuid.UUID(bytes=raw_id),
        expires_at=dt.datetime.fromtimestamp(expiry, tz=dt.UTC),
        campaign_id=campaign_id,
    )
