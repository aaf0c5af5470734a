"""GET /healthz: is this process alive, and can it reach its database and broker?"""

import datetime as dt
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from adnet.core import clock
from campaigns.selectors import journal_set_aside_count
from reports.selectors import rollup_status

# Match journal records set aside within this long make the journal part not ok.
JOURNAL_SET_ASIDE_RECENT = dt.timedelta(hours=1)


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means down, reported as such
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def _check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        from pathlib import Path

        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return {"ok": folder.is_dir(), "kind": "filesystem"}
    import redis

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means down, reported as such
        return {"ok": False, "kind": "redis", "error": type(exc).__name__}
    return {
        "ok": True,
        "kind": "redis",
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def _check_rollups() -> dict:
    """How far the report rollups are behind the raw rows. Reported, but not part of
    `status`: a stale rollup means Celery beat is down, which restarting web won't fix."""
    try:
        status = rollup_status()
    except Exception as exc:  # noqa: BLE001 - any failure means unknown, reported as such
        return {"ok": False, "error": type(exc).__name__}
    return {
        "ok": status["ok"],
        "lag_seconds": status["lag_seconds"],
        "max_lag_seconds": status["max_lag_seconds"],
        "fresh_until": clock.isoformat(status["fresh_until"]),
    }


def _check_journal() -> dict:
    """Whether match journal records were set aside lately (campaigns.journal): delivery
    goes on, but those matches were not written. Reported, not part of `status` yet."""
    try:
        recent = journal_set_aside_count(since=clock.now() - JOURNAL_SET_ASIDE_RECENT)
    except Exception as exc:  # noqa: BLE001 - any failure means unknown, reported as such
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": recent == 0, "set_aside_last_hour": recent}


@require_GET
def healthz(request):
    database, broker = _check_database(), _check_broker()
    healthy = database["ok"] and broker["ok"]
    rollups = _check_rollups() if database["ok"] else {"ok": False, "error": "database"}
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "broker": broker,
            "rollups": rollups,
            "journal": _check_journal() if database["ok"] else {"ok": False, "error": "database"},
        },
        headers={"Cache-Control": "no-store"},
    )


@require_GET
def readyz(request):
    """Should a load balancer send traffic here? 200 only when the database and the broker
    answer; 503 otherwise, with the same details as /healthz."""
    database, broker = _check_database(), _check_broker()
    ready = database["ok"] and broker["ok"]
    rollups = _check_rollups() if database["ok"] else {"ok": False, "error": "database"}
    return JsonResponse(
        {
            "status": "ready" if ready else "unavailable",
            "database": database,
            "broker": broker,
            "rollups": rollups,
            "journal": _check_journal() if database["ok"] else {"ok": False, "error": "database"},
        },
        status=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )
