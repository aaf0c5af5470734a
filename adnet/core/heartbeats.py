"""When each long-lived loop last succeeded, shared by every process (the `loops` cache).

The loops process writes it (adnet.loops); web processes read it for /metrics and health.
The `loops` cache is Redis when REDIS_URL is set, else files under var/ (settings).
"""

import datetime as dt

from django.core.cache import caches

CACHE_ALIAS = "loops"


def _key(name: str) -> str:
    return f"loop:{name}:last_success"


def record_loop_success(name: str, at: dt.datetime) -> None:
    caches[CACHE_ALIAS].set(_key(name), at.timestamp(), timeout=None)


def loop_last_success(name: str) -> dt.datetime | None:
    """When the loop `name` last completed a run, in any process; None if never recorded."""
    value = caches[CACHE_ALIAS].get(_key(name))
    return None if value is None else dt.datetime.fromtimestamp(value, tz=dt.UTC)
