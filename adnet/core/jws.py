"""Compact JWS with Ed25519 (`alg` EdDSA, RFC 8037): the network's signature on what it says.

Keys come from `RECOMMENDATION_SIGNING_KEYS` ("kid:seed" entries, comma-separated, each seed
32 random bytes in base64url): the first signs, all are published in the JWKS, so a new key
can sign while answers signed with the old one still verify until they expire; then the old
key is dropped. Without the setting (the quick start, tests) one key derived from SECRET_KEY
signs, with key id `dev`; `check --deploy` refuses that (adnet/checks.py).
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings

DEVELOPMENT_KID = "dev"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class KeyConfigError(ValueError):
    """RECOMMENDATION_SIGNING_KEYS is malformed."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Key:
    kid: str
    private: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public_bytes),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }


def parse_keys(entries: tuple[str, ...], secret_key: str) -> tuple[Key, ...]:
    """The configured keys, signing key first; a development key when none is configured."""
    if not entries:
        seed = hashlib.sha256(f"adnet.jws:development:{secret_key}".encode()).digest()
        return (Key(DEVELOPMENT_KID, Ed25519PrivateKey.from_private_bytes(seed)),)
    keys: list[Key] = []
    for entry in entries:
        kid, sep, seed_text = entry.partition(":")
        if not sep or not _KID.match(kid):
            raise KeyConfigError(
                f"RECOMMENDATION_SIGNING_KEYS entry {kid!r}: expected kid:seed, the kid 1-32 "
                "letters, digits, _ or -"
            )
        try:
            seed = b64url_decode(seed_text)
        except ValueError as exc:
            raise KeyConfigError(f"RECOMMENDATION_SIGNING_KEYS key {kid!r}: not base64url") from exc
        if len(seed) != 32:
            raise KeyConfigError(
                f"RECOMMENDATION_SIGNING_KEYS key {kid!r}: the seed must be 32 bytes"
            )
        if any(k.kid == kid for k in keys):
            raise KeyConfigError(f"RECOMMENDATION_SIGNING_KEYS names key {kid!r} twice")
        keys.append(Key(kid, Ed25519PrivateKey.from_private_bytes(seed)))
    return tuple(keys)


@lru_cache(maxsize=8)
def _keyring(entries: tuple[str, ...], secret_key: str) -> tuple[Key, ...]:
    return parse_keys(entries, secret_key)


def keys() -> tuple[Key, ...]:
    return _keyring(tuple(settings.RECOMMENDATION_SIGNING_KEYS), settings.SECRET_KEY)


def jwks() -> dict[str, list[dict[str, str]]]:
    """The public keys as a JSON Web Key Set."""
    return {"keys": [key.jwk() for key in keys()]}


def new_seed() -> str:
    """A fresh key seed, for an operator setting RECOMMENDATION_SIGNING_KEYS."""
    private = Ed25519PrivateKey.generate()
    return b64url(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def sign(claims: dict) -> str:
    """A compact JWS of `claims` (JSON, keys sorted), signed with the signing key."""
    key = keys()[0]
    header = b64url(
        json.dumps({"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}, separators=(",", ":")).encode()
    )
    payload = b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{b64url(key.private.sign(signing_input))}"


def verify(token: str, published: dict | None = None) -> dict | None:
    """The claims if `token` is signed by one of the keys (ours, or those of a JWKS
    `published`), else None. Expiry is the caller's to check."""
    try:
        header_part, payload_part, signature_part = token.split(".")
        header = json.loads(b64url_decode(header_part))
        signature = b64url_decode(signature_part)
    except (ValueError, TypeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        return None
    candidates = published["keys"] if published is not None else [k.jwk() for k in keys()]
    jwk = next((k for k in candidates if k.get("kid") == header.get("kid")), None)
    if jwk is None or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    try:
        public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        public.verify(signature, f"{header_part}.{payload_part}".encode("ascii"))
        claims = json.loads(b64url_decode(payload_part))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None
