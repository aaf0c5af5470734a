"""Fixed-window request counters per API key, kept in Redis with one round trip.

A window is identified by its start (multiples of its length since the Unix epoch), so
every process counts into the same key without coordination; the key expires with the
window. /v1/match counts inside its budget script instead (campaigns.budget), so that a
match still costs one Redis round trip.
"""

import time
from dataclasses import dataclass

from django.conf import settings

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

COUNT = """
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return used
"""


class RateLimited(Exception):
    def __init__(self, wait_seconds: float):
        super().__init__(f"rate limited for {wait_seconds:.1f} s")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True, slots=True)
class Window:
    key: str
    limit: int
    seconds: int
    resets_at: float

    def wait(self) -> float:
        """Seconds until the window resets (what Retry-After rounds up)."""
        return max(0.0, self.resets_at - time.time() - 0.001)


def parse_rate(rate: str) -> tuple[int, int]:
    """'6000/m' -> (6000, 60); '10/5m' -> (10, 300)."""
    count, _, period = rate.partition("/")
    digits = period[:-1] or "1"
    return int(count), int(digits) * _UNITS[period[-1]]


def window(group: str, ident: str, rate: str, now: float | None = None) -> Window:
    limit, seconds = parse_rate(rate)
    now = time.time() if now is None else now
    start = int(now) // seconds * seconds
    return Window(
        key=f"{settings.BUDGET_REDIS_PREFIX}rl:{group}:{ident}:{start}",
        limit=limit,
        seconds=seconds,
        resets_at=float(start + seconds),
    )


def hit(current: Window) -> None:
    """Count one request in the window; RateLimited if it is over. RedisError propagates."""
    from campaigns import budget

    store = budget.store()
    script = store.scripts.get("count")
    if script is None:
        script = store.scripts["count"] = store.redis.register_script(COUNT)
    used = int(script(keys=[current.key], args=[current.seconds], client=store.redis))
    if used > current.limit:
        raise RateLimited(current.wait())
