"""Compact signed tokens: a key id, a payload and an HMAC tag in URL-safe base64.

Tokens are signed with the first of `TOKEN_SIGNING_KEYS` ("kid:secret", comma-separated)
and checked against every key listed, so a new key can be put first while tokens signed
with the old one stay good until they expire; then the old key is dropped. Without
`TOKEN_SIGNING_KEYS` (the quick start, tests) one key derived from SECRET_KEY signs, with
key id `dev`; `manage.py check --deploy` refuses that (adnet/checks.py).

Tokens made before key ids existed (payload and tag only) are still accepted with the key
they were made with, derived from SECRET_KEY, so open beacons and click links survive the
upgrade.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

TAG_BYTES = 16
DEVELOPMENT_KID = "dev"
MIN_SECRET_CHARS = 32
_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class KeyConfigError(ValueError):
    """TOKEN_SIGNING_KEYS is malformed."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str


def parse_keys(entries: tuple[str, ...], secret_key: str) -> tuple[SigningKey, ...]:
    """The configured keys, signing key first; the development key when none is configured."""
    if not entries:
        return (SigningKey(DEVELOPMENT_KID, f"development:{secret_key}"),)
    keys = []
    for entry in entries:
        kid, sep, secret = entry.partition(":")
        if not sep or not _KID.match(kid):
            raise KeyConfigError(
                f"TOKEN_SIGNING_KEYS entry {kid!r}: expected kid:secret, the kid 1-16 letters, "
                "digits, _ or -"
            )
        if len(secret) < MIN_SECRET_CHARS:
            raise KeyConfigError(
                f"TOKEN_SIGNING_KEYS key {kid!r}: the secret needs {MIN_SECRET_CHARS}+ characters"
            )
        if any(k.kid == kid for k in keys):
            raise KeyConfigError(f"TOKEN_SIGNING_KEYS names key {kid!r} twice")
        keys.append(SigningKey(kid, secret))
    return tuple(keys)


@lru_cache(maxsize=16)
def _keyring(entries: tuple[str, ...], secret_key: str) -> tuple[SigningKey, ...]:
    return parse_keys(entries, secret_key)


def keys() -> tuple[SigningKey, ...]:
    return _keyring(tuple(settings.TOKEN_SIGNING_KEYS), settings.SECRET_KEY)


@lru_cache(maxsize=64)
def _derived(purpose: str, kid: str, secret: str) -> bytes:
    return hashlib.sha256(f"adnet.signing:{purpose}:{kid}:{secret}".encode()).digest()


@lru_cache(maxsize=16)
def _legacy(purpose: str, secret_key: str) -> bytes:
    return hashlib.sha256(f"adnet.signing:{purpose}:{secret_key}".encode()).digest()


def _tag(key: bytes, signed: bytes) -> bytes:
    return hmac.new(key, signed, hashlib.sha256).digest()[:TAG_BYTES]


def sign(payload: bytes, *, purpose: str) -> str:
    key = keys()[0]
    head = bytes([len(key.kid)]) + key.kid.encode("ascii")
    tag = _tag(_derived(purpose, key.kid, key.secret), head + payload)
    return base64.urlsafe_b64encode(head + payload + tag).rstrip(b"=").decode("ascii")


def unsign(token: str, *, purpose: str, payload_bytes: int) -> bytes | None:
    """The payload if the token is well formed and signed with one of our keys, else None."""
    if not isinstance(token, str) or len(token) > 256:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) == payload_bytes + TAG_BYTES:  # made before key ids
        payload, tag = raw[:payload_bytes], raw[payload_bytes:]
        expected = _tag(_legacy(purpose, settings.SECRET_KEY), payload)
        return payload if hmac.compare_digest(tag, expected) else None
    kid_length = raw[0] if raw else 0
    if len(raw) != 1 + kid_length + payload_bytes + TAG_BYTES:
        return None
    kid = raw[1 : 1 + kid_length].decode("ascii", errors="replace")
    key = next((k for k in keys() if k.kid == kid), None)
    if key is None:
        return None
    signed, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(_derived(purpose, key.kid, key.secret), signed)):
        return None
    return signed[1 + kid_length :]


def token_kid(token: str) -> str | None:
    """The key id a token names (not checked), for logs and tests."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    return raw[1 : 1 + raw[0]].decode("ascii", errors="replace") if raw else None
