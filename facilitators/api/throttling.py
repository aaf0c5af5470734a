"""Rate limits per API key, counted by django-ratelimit in the cache (Redis in production).

Each kind of key has its own rate (settings.API_RATE_LIMITS). When the counter store is
down a view decides: `rate_limit_fail_open = True` (the default for the machine API, whose
money is bounded by the budget invariant anyway) lets the request through; False refuses
it with 503.
"""

import logging

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from adnet.core.errors import ServiceUnavailable
from facilitators.selectors import Principal

logger = logging.getLogger(__name__)


def _key(group: str, request) -> str:
    return str(request.user.key_pk)


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self):
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, Principal):
            return True  # not authenticated: the permission check answers 401
        rate = settings.API_RATE_LIMITS.get(principal.kind)
        if not rate:
            return True
        try:
            usage = get_usage(
                request, group=f"apikey:{principal.kind}", key=_key, rate=rate, increment=True
            )
            store_failed = usage is not None and usage["limit"] == 0 and usage["count"] == 0
        except Exception:  # noqa: BLE001 - any failure of the counter store
            usage, store_failed = None, True
        if store_failed:
            logger.warning("rate-limit store unavailable")
            if getattr(view, "rate_limit_fail_open", True):
                return True
            raise ServiceUnavailable("Rate limits cannot be checked right now; try again.")
        if usage is not None and usage["should_limit"]:
            self._wait = max(1, usage["time_left"])
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
