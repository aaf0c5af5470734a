"""Work due every few seconds, run as long-lived loops in one process (`manage.py runloops`).

Beat ticks through the broker suit minute-scale housekeeping; work due every second or
two would be a stream of messages that a slow broker (the embedded default's filesystem
transport) cannot carry, and that queues up behind itself when the worker is busy. Each
loop here calls its service function, waits its interval, and goes again, in a thread of
its own so one slow loop never holds up another. A run that raises is logged and the loop
backs off (doubling, up to LOOPS_MAX_BACKOFF_SECONDS) instead of dying; SIGTERM stops
every loop after its current run. Each success is recorded for every process to read
(`adnet.core.heartbeats.loop_last_success`): /metrics publishes it, and health can call a
loop stale from it.
"""

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

from adnet.core import clock, heartbeats
from billing import services as billing
from campaigns import budget, grants, journal
from events import services as events

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loop:
    """One piece of recurring work: `run` is called, then the loop waits `interval` seconds."""

    name: str
    interval: float
    run: Callable[[], object]
    # False: this deployment has nothing for the loop to do (e.g. no Redis budget store).
    enabled: Callable[[], bool] = lambda: True


def registry() -> list[Loop]:
    """Every loop, with its interval from settings (LOOP_INTERVALS)."""
    every = settings.LOOP_INTERVALS
    return [
        # Matching's records, from the Redis stream into PostgreSQL (campaigns.journal).
        Loop("drain-match-journal", every["drain-match-journal"], journal.drain, budget.enabled),
        # Fresh grants for campaigns that spent half of theirs (campaigns.grants).
        Loop("top-up-budget-grants", every["top-up-budget-grants"], grants.top_up, budget.enabled),
        Loop("attribute-settlements", every["attribute-settlements"], billing.attribute_pending),
        Loop(
            "release-expired-holds",
            every["release-expired-holds"],
            billing.release_expired_holds,
        ),
        # Dispatches events accepted while the broker was down, and those whose lease ran out.
        Loop("sweep-event-inbox", every["sweep-event-inbox"], events.sweep_inbox),
        # Where events are not queued as tasks (the embedded default), their consumer.
        Loop(
            "process-event-inbox",
            every["process-event-inbox"],
            events.process_pending,
            lambda: not settings.EVENTS_VIA_BROKER,
        ),
    ]


# --- Running -----------------------------------------------------------------------------------


def backoff(interval: float, failures: int) -> float:
    """The wait after `failures` failed runs in a row: the interval doubled per failure,
    capped at LOOPS_MAX_BACKOFF_SECONDS (never below the interval itself)."""
    if failures <= 0:
        return interval
    ceiling = max(interval, float(settings.LOOPS_MAX_BACKOFF_SECONDS))
    return min(interval * 2 ** min(failures, 30), ceiling)


def run_loop(loop: Loop, stop: threading.Event) -> None:
    """Run `loop` until `stop` is set. Errors are logged and backed off, never raised."""
    failures = 0
    while not stop.is_set():
        # The rule a web request follows: drop a connection that is too old or broken.
        close_old_connections()
        try:
            loop.run()
        except Exception:
            failures += 1
            logger.exception(
                "loop %s failed", loop.name, extra={"loop": loop.name, "failures": failures}
            )
        else:
            if failures:
                logger.info("loop %s recovered", loop.name, extra={"loop": loop.name})
            failures = 0
            try:
                heartbeats.record_loop_success(loop.name, clock.now())
            except Exception:  # the work was done; a lost heartbeat only makes it look stale
                logger.warning("loop %s: could not record its success", loop.name, exc_info=True)
        finally:
            close_old_connections()
        stop.wait(backoff(loop.interval, failures))


def start(loops: Iterable[Loop], stop: threading.Event) -> list[threading.Thread]:
    """One thread per enabled loop, each running until `stop` is set."""
    threads = []
    for loop in loops:
        if not loop.enabled():
            logger.info("loop %s: nothing to do in this deployment", loop.name)
            continue
        thread = threading.Thread(
            target=run_loop, args=(loop, stop), name=f"loop:{loop.name}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads
