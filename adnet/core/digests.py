"""Digests of canonical bodies: the same facts always hash the same, whatever the key order."""

import hashlib
import json


def canonical_digest(body: dict) -> str:
    """SHA-256 of the body as compact JSON with sorted keys."""
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()
