"""The deployment's health, computed in one place: ok, degraded (which parts, why) or down.

`status()` checks each part and /healthz, /readyz and /metrics render what it returns.
A part is `ok`, `degraded` (working, but something needs an operator: the journal lags,
the queue grows, reports are stale) or `down` (the database or the broker cannot be
reached: nothing that needs it works). The whole is the worst of its parts.

Adding a part is one function decorated with `@part(name)`: it returns a `Part`, and
raising counts as degraded with the exception's name. Parts that read a store name it in
`needs`, and are not checked while it is down (reported degraded, "not checked").
"""

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from adnet.core import clock, deadline
from campaigns import budget, journal
from campaigns.selectors import journal_set_aside_count
from reports.selectors import rollup_status

OK, DEGRADED, DOWN = "ok", "degraded", "down"
LEVELS = {OK: 0, DEGRADED: 1, DOWN: 2}


@dataclass(frozen=True)
class Part:
    status: str
    reason: str = ""
    details: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"status": self.status, "reason": self.reason, **self.details}


@dataclass(frozen=True)
class Health:
    status: str
    parts: dict[str, Part]

    def as_json(self) -> dict:
        return {
            "status": self.status,
            "parts": {name: part.as_json() for name, part in self.parts.items()},
        }


@dataclass(frozen=True)
class _Check:
    name: str
    check: Callable[[], Part]
    needs: tuple[str, ...]


_CHECKS: list[_Check] = []


def part(name: str, *, needs: tuple[str, ...] = ()):
    """Register `check` as the part `name`, checked after the parts it needs."""

    def register(check: Callable[[], Part]) -> Callable[[], Part]:
        _CHECKS.append(_Check(name, check, needs))
        return check

    return register


def status() -> Health:
    parts: dict[str, Part] = {}
    for check in _CHECKS:
        down = [name for name in check.needs if parts[name].status == DOWN]
        if down:
            parts[check.name] = Part(DEGRADED, f"not checked: {', '.join(down)} is down")
            continue
        try:
            parts[check.name] = check.check()
        except Exception as exc:  # noqa: BLE001 - a part that cannot say is reported as such
            parts[check.name] = Part(DEGRADED, f"could not be checked: {type(exc).__name__}")
    worst = max((p.status for p in parts.values()), key=LEVELS.__getitem__, default=OK)
    return Health(worst, parts)


# --- The parts, in the order they are checked --------------------------------------------


@part("database")
def database() -> Part:
    started = time.perf_counter()
    try:
        # A probe must answer in time even when the database hangs (adnet.core.deadline).
        with deadline.scope(settings.HEALTH_PROBE_TIMEOUT_MS / 1000), connection.cursor() as c:
            c.execute("SELECT 1")
            c.fetchone()
    except DatabaseError as exc:
        return Part(DOWN, f"unreachable: {type(exc).__name__}", {"vendor": connection.vendor})
    latency = round((time.perf_counter() - started) * 1000, 2)
    return Part(OK, details={"vendor": connection.vendor, "latency_ms": latency})


def _broker_redis() -> redis.Redis:
    timeout = settings.HEALTH_PROBE_TIMEOUT_MS / 1000
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )


def _on_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


@part("broker")
def broker() -> Part:
    if not _on_redis():
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        if not os.path.isdir(folder):
            return Part(DOWN, "the filesystem broker's folder is missing", {"kind": "filesystem"})
        return Part(OK, details={"kind": "filesystem"})
    started = time.perf_counter()
    client = _broker_redis()
    try:
        client.ping()
    except redis.RedisError as exc:
        return Part(DOWN, f"unreachable: {type(exc).__name__}", {"kind": "redis"})
    finally:
        client.close()
    latency = round((time.perf_counter() - started) * 1000, 2)
    return Part(OK, details={"kind": "redis", "latency_ms": latency})


@part("journal", needs=("broker",))
def journal_lag() -> Part:
    """How long the oldest match record has waited in Redis for the worker to write it."""
    if not budget.enabled():
        return Part(OK, details={"store": "database"})  # matching writes PostgreSQL directly
    oldest = journal.oldest_pending()
    age = 0.0 if oldest is None else max(0.0, (clock.now() - oldest).total_seconds())
    limit = settings.HEALTH_JOURNAL_MAX_LAG_SECONDS
    details = {"store": "redis", "oldest_seconds": round(age, 1), "max_seconds": limit}
    if age > limit:
        return Part(DEGRADED, f"match records wait {age:.0f} s to reach the database", details)
    return Part(OK, details=details)


# Match journal records set aside within this long make the deployment degraded.
JOURNAL_SET_ASIDE_RECENT = dt.timedelta(hours=1)


@part("set_aside", needs=("database",))
def journal_set_aside() -> Part:
    """Match records the database refused (campaigns.journal): delivery goes on, but those
    matches were not written, and an operator should read why (admin, set-aside records)."""
    recent = journal_set_aside_count(since=clock.now() - JOURNAL_SET_ASIDE_RECENT)
    details = {"last_hour": recent}
    if recent:
        return Part(DEGRADED, f"{recent} match records set aside in the last hour", details)
    return Part(OK, details=details)


def queue_depth() -> int:
    """Tasks waiting for a Celery worker (the broker's default queue)."""
    if not _on_redis():
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        # One file per message waiting (adnet.fsbroker writes "<name>.msg" whole).
        return sum(1 for entry in os.scandir(folder) if entry.name.endswith(".msg"))
    client = _broker_redis()
    try:
        return client.llen(settings.METRICS_CELERY_QUEUE)
    finally:
        client.close()


QUEUE_SAMPLE_KEY = "health:queue-sample"


@part("queue", needs=("broker",))
def queue() -> Part:
    """The Celery queue: degraded over HEALTH_QUEUE_MAX_TASKS, or growing by more than
    HEALTH_QUEUE_MAX_GROWTH tasks a minute (the workers are not keeping up). Growth is
    measured against a depth kept in the cache at least a minute earlier."""
    depth, now = queue_depth(), time.time()
    details = {"depth": depth, "max_depth": settings.HEALTH_QUEUE_MAX_TASKS}
    sample = cache.get(QUEUE_SAMPLE_KEY)  # (when, depth, growth per minute or None)
    if sample is None or not 0 <= now - sample[0] <= 5 * 60:
        sample = (now, depth, None)
        cache.set(QUEUE_SAMPLE_KEY, sample, timeout=10 * 60)
    elif now - sample[0] >= 60:
        sample = (now, depth, round((depth - sample[1]) * 60 / (now - sample[0])))
        cache.set(QUEUE_SAMPLE_KEY, sample, timeout=10 * 60)
    growth = sample[2]
    if growth is not None:
        details["growth_per_minute"] = growth
    if depth > settings.HEALTH_QUEUE_MAX_TASKS:
        return Part(DEGRADED, f"{depth} tasks wait for a worker", details)
    if growth is not None and growth > settings.HEALTH_QUEUE_MAX_GROWTH:
        return Part(DEGRADED, f"the queue grows by {growth} tasks a minute", details)
    return Part(OK, details=details)


@part("rollups", needs=("database",))
def rollups() -> Part:
    """How far today's report rollups are behind the raw rows (reports.selectors)."""
    state = rollup_status()
    details = {"lag_seconds": state["lag_seconds"], "max_lag_seconds": state["max_lag_seconds"]}
    if state["fresh_until"] is not None:
        details["fresh_until"] = clock.isoformat(state["fresh_until"])
    if state["lag_seconds"] is None:
        return Part(DEGRADED, "report rollups have not run yet", details)
    if not state["ok"]:
        return Part(DEGRADED, f"report rollups are {state['lag_seconds']:.0f} s behind", details)
    return Part(OK, details=details)


# --- The probes ------------------------------------------------------------------------------


@require_GET
def healthz(request):
    """Liveness: this process answers (200), with the deployment's health in the body."""
    return JsonResponse(status().as_json(), headers={"Cache-Control": "no-store"})


@require_GET
def readyz(request):
    """Readiness: 503 only when the deployment is down (database or broker unreachable);
    200 when ok or degraded, with the same body as /healthz."""
    health = status()
    return JsonResponse(
        health.as_json(),
        status=503 if health.status == DOWN else 200,
        headers={"Cache-Control": "no-store"},
    )
