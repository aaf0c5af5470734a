"""Compact signed tokens: a payload and an HMAC tag in URL-safe base64, checked in constant time."""

import base64
import hashlib
import hmac

from django.conf import settings

TAG_BYTES = 16


def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"adnet.signing:{purpose}:{settings.SECRET_KEY}".encode()).digest()


def sign(payload: bytes, *, purpose: str) -> str:
    tag = hmac.new(_key(purpose), payload, hashlib.sha256).digest()[:TAG_BYTES]
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode("ascii")


def unsign(token: str, *, purpose: str, payload_bytes: int) -> bytes | None:
    """The payload if the token is well formed and its tag is ours, else None."""
    if not isinstance(token, str) or len(token) > 256:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != payload_bytes + TAG_BYTES:
        return None
    payload, tag = raw[:payload_bytes], raw[payload_bytes:]
    expected = hmac.new(_key(purpose), payload, hashlib.sha256).digest()[:TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        return None
    return payload
