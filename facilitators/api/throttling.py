"""Rate limits per API key.

Each kind of key has its own rate (settings.API_RATE_LIMITS), counted in fixed windows:
in Redis with one round trip (adnet.core.ratelimits) when REDIS_URL is set, else by
django-ratelimit in the local cache. /v1/match leaves the counting to its budget script
(the view says so with `counts_rate_itself`), so a match is still one Redis round trip.

When the counter store is down a view decides: `rate_limit_fail_open = True` (the default
for the machine API, whose money is bounded by the budget invariant anyway) lets the
request through; False refuses it with 503.
"""

import logging

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from adnet.core import ratelimits
from adnet.core.errors import ServiceUnavailable
from facilitators.selectors import Principal

logger = logging.getLogger(__name__)


def _key(group: str, request) -> str:
    return str(request.user.key_pk)


def rate_window(request) -> ratelimits.Window | None:
    """The counting window of the request's API key, or None when it has no limit."""
    return window_for(request.user)


def window_for(principal) -> ratelimits.Window | None:
    """The counting window of a caller's API key, or None (no key, or no limit)."""
    if not isinstance(principal, Principal):
        return None
    rate = settings.API_RATE_LIMITS.get(principal.kind)
    if not rate:
        return None
    return ratelimits.window(f"apikey:{principal.kind}", str(principal.key_pk), rate)


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self):
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        current = rate_window(request)
        if current is None:
            return True  # not authenticated (the permission check answers 401), or no limit
        counts_itself = getattr(view, "counts_rate_itself", None)
        if counts_itself is not None and counts_itself(request):
            request.rate_window = current
            return True
        try:
            if settings.REDIS_URL:
                ratelimits.hit(current)
                return True
            usage = get_usage(
                request,
                group=f"apikey:{request.user.kind}",
                key=_key,
                rate=settings.API_RATE_LIMITS[request.user.kind],
                increment=True,
            )
        except ratelimits.RateLimited as limited:
            self._wait = limited.wait_seconds
            return False
        except Exception as exc:  # noqa: BLE001 - any failure of the counter store (RedisError...)
            logger.warning("rate-limit store unavailable: %s", type(exc).__name__)
            return self._store_failed(view)
        if usage is None:
            return True
        if usage["limit"] == 0 and usage["count"] == 0:
            return self._store_failed(view)
        if usage["should_limit"]:
            self._wait = max(1, usage["time_left"])
            return False
        return True

    def _store_failed(self, view) -> bool:
        if getattr(view, "rate_limit_fail_open", True):
            return True
        raise ServiceUnavailable("Rate limits cannot be checked right now; try again.")

    def wait(self) -> float | None:
        return self._wait
