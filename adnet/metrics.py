"""Prometheus metrics: GET /metrics, and the counters the request path moves.

Counters and histograms are moved in the request path (a dictionary lookup and a lock, no
I/O). Everything that needs the database or the broker is computed when Prometheus
scrapes, by `StateCollector`, so a busy API pays nothing for it.

gunicorn runs several worker processes, each with its own counters. With
PROMETHEUS_MULTIPROC_DIR set (scripts/serve, compose.yaml and scripts/bench.py set it to a
fresh empty directory per server start) every process writes its samples to files there
and a scrape of any one worker sums them all. Without it (runserver, tests) the counters
are the process's own.
"""

import ipaddress
import logging
import os
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from adnet import health
from adnet.core.heartbeats import loop_last_success

logger = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "adnet_http_requests",
    "HTTP requests answered, by route name, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "adnet_http_request_duration_seconds",
    "Time from the first middleware to the response, by route name and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MATCH_REQUESTS = Counter(
    "adnet_match_requests",
    "Settlements offered to POST /v1/match (not explain dry runs), by transport.",
    ["transport"],
)
MATCH_MATCHED = Counter(
    "adnet_match_matched",
    "Matches that placed a recommendation, by transport. Fill rate = matched / requests.",
    ["transport"],
)
EVENTS_ACCEPTED = Counter(
    "adnet_events_accepted", "Settlement events accepted (202) by POST /v1/events."
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Counts and times every request. Outermost, so refusals (413, 429) count too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or "unnamed") if match else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)
        return response


_match_children: dict[str, tuple] = {}


def record_match(*, transport: str, matched: bool) -> None:
    children = _match_children.get(transport)
    if children is None:  # labels() validates and locks: once per transport, not per match
        children = _match_children[transport] = (
            MATCH_REQUESTS.labels(transport),
            MATCH_MATCHED.labels(transport),
        )
    children[0].inc()
    if matched:
        children[1].inc()


class StateCollector:
    """Gauges read from the database and the broker at scrape time. A failing source is
    left out of the scrape (and logged) rather than failing it."""

    def collect(self):
        state = health.status()
        yield from self._health(state)
        if state.parts["database"].status != health.DOWN:  # else each would wait its deadline
            yield from self._safely(self._events)
            yield from self._safely(self._campaigns)
            yield from self._safely(self._journal)
            yield from self._safely(self._rollups)
            yield from self._safely(self._loops)
        if state.parts["broker"].status != health.DOWN:
            yield from self._safely(self._queue)

    def _safely(self, source):
        try:
            return list(source())
        except Exception:  # a sick source must not break the whole scrape
            logger.warning("metrics source %s failed", source.__name__, exc_info=True)
            return []

    def _health(self, state: "health.Health"):
        """The health of /healthz and /readyz: 0 ok, 1 degraded, 2 down."""
        yield GaugeMetricFamily(
            "adnet_health",
            "The deployment's health as /healthz says it: 0 ok, 1 degraded, 2 down.",
            value=health.LEVELS[state.status],
        )
        family = GaugeMetricFamily(
            "adnet_health_part",
            "Each part of the deployment's health: 0 ok, 1 degraded, 2 down.",
            labels=["part"],
        )
        for name, part in state.parts.items():
            family.add_metric([name], health.LEVELS[part.status])
        yield family

    def _events(self):
        from django.db.models import Count

        from events.models import SettlementEvent

        counts = dict.fromkeys(SettlementEvent.Status.values, 0)
        rows = SettlementEvent.objects.values_list("status").annotate(n=Count("id"))
        for status, n in rows.order_by():
            counts[status] = n
        family = GaugeMetricFamily(
            "adnet_events", "Settlement events in the inbox, by status.", labels=["status"]
        )
        for status, n in counts.items():
            family.add_metric([status], n)
        yield family

    def _campaigns(self):
        from campaigns.models import Campaign

        yield GaugeMetricFamily(
            "adnet_campaigns_exhausted",
            "Campaigns whose total budget is spent (status exhausted).",
            value=Campaign.objects.filter(status=Campaign.Status.EXHAUSTED).count(),
        )

    def _journal(self):
        from campaigns.selectors import journal_set_aside_count, lost_placement_count

        yield GaugeMetricFamily(
            "adnet_journal_set_aside",
            "Match journal records set aside because they could not be written.",
            value=journal_set_aside_count(),
        )
        yield GaugeMetricFamily(
            "adnet_placements_lost",
            "Placements answered but never written (lost with Redis, or set aside).",
            value=lost_placement_count(),
        )

    def _rollups(self):
        from reports.selectors import rollup_status

        lag = rollup_status()["lag_seconds"]
        if lag is not None:  # never rolled up: no sample, which alerting sees as absent
            yield GaugeMetricFamily(
                "adnet_rollup_lag_seconds",
                "How far today's report rollups are behind the raw rows.",
                value=lag,
            )

    def _queue(self):
        family = GaugeMetricFamily(
            "adnet_celery_queue_depth",
            "Tasks waiting in the Celery queue (Redis or filesystem broker).",
            labels=["queue"],
        )
        family.add_metric([settings.METRICS_CELERY_QUEUE], health.queue_depth())
        yield family

    def _loops(self):
        family = GaugeMetricFamily(
            "adnet_loop_last_success_timestamp_seconds",
            "When each per-second loop (manage.py runloops) last completed a run, Unix time.",
            labels=["loop"],
        )
        for name in settings.LOOP_INTERVALS:
            at = loop_last_success(name)
            if at is not None:  # never ran (or not in this deployment): no sample
                family.add_metric([name], at.timestamp())
        yield family


class _ProcessRegistry:
    """This process's own metrics (single-process mode)."""

    def collect(self):
        return REGISTRY.collect()


def scrape() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(StateCollector())
    return generate_latest(registry)


def _allowed(address: str) -> bool:
    networks = settings.METRICS_ALLOWED_IPS
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics in Prometheus' text format. No key; METRICS_ALLOWED_IPS (addresses or
    networks) restricts it to the scraper's addresses when set."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if not _allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    return HttpResponse(
        scrape(), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
    )
