"""The API key format: generating keys, splitting them and hashing them."""

import hashlib
import secrets
from dataclasses import dataclass

KIND_TAGS = {"facilitator": "adnfac", "advertiser": "adnadv", "operator": "adnop"}
_TAG_KINDS = {tag: kind for kind, tag in KIND_TAGS.items()}
_KEY_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
KEY_ID_LENGTH = 12
MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class ParsedKey:
    kind: str
    key_id: str
    raw: str


def generate(kind: str) -> tuple[str, str]:
    """A new (full key, key_id) pair for a key of this kind."""
    key_id = "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    return f"{KIND_TAGS[kind]}_{key_id}_{secrets.token_urlsafe(32)}", key_id


def parse(raw: str) -> ParsedKey | None:
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return None
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] not in _TAG_KINDS or len(parts[1]) != KEY_ID_LENGTH:
        return None
    if not parts[2]:
        return None
    return ParsedKey(kind=_TAG_KINDS[parts[0]], key_id=parts[1], raw=raw)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
