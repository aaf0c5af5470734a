"""Identifiers for rows written at a high rate."""

import datetime as dt
import os
import uuid

_RANDOM_BITS = 74


def time_ordered_uuid(at: dt.datetime) -> uuid.UUID:
    """A version-7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    Ids made one after another sort one after another, so the B-tree of a table written
    thousands of times a second grows at its right edge, where a random (version-4) id
    touches a page anywhere in the index for every row.
    """
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big") >> (80 - _RANDOM_BITS)
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    return uuid.UUID(int=(millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)
