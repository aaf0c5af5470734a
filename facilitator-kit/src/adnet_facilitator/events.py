"""Settlement events sent in the background: a bounded queue drained in batches by one thread."""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("adnet_facilitator")

MAX_BATCH = 500  # the most events POST /v1/events accepts in one request


@dataclass
class Delivery:
    """What became of one batch: events to try again later, and events refused for good."""

    retry: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0


@dataclass(frozen=True)
class EventStats:
    queued: int  # waiting now
    sent: int  # accepted by the network
    dropped: int  # pushed out of a full queue (the oldest go first)
    rejected: int  # refused by the network (invalid, or the key was refused)
    failed: int  # given up after max_attempts transient failures


class EventSender:
    """Queues events without blocking the caller and sends them from a daemon thread.

    `put` never blocks and never raises: when the queue is full the oldest event is
    dropped and counted, because a settlement must not wait for the ad network and memory
    must stay bounded while the network is away. Events are idempotent on the network
    (same body, same answer), so a batch that failed transiently is sent again.
    """

    def __init__(
        self,
        send: Callable[[list[dict[str, Any]]], Delivery],
        *,
        max_queue: int = 10_000,
        batch_size: int = MAX_BATCH,
        linger: float = 0.25,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ):
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self._send = send
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._linger = linger
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._queue: deque[dict[str, Any]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._flush_waiters = 0
        self._closing = False
        self._close_deadline = float("inf")
        self._thread: threading.Thread | None = None
        reset_in_forked_children(self)
        self._sent = self._dropped = self._rejected = self._failed = 0

    # --- the caller's side ---------------------------------------------------------------

    def put(self, event: dict[str, Any]) -> None:
        with self._cond:
            if self._closing:
                self._dropped += 1
                return
            if len(self._queue) >= self._max_queue:
                self._queue.popleft()
                self._dropped += 1
            self._queue.append(event)
            self._ensure_thread()
            if len(self._queue) == 1 or len(self._queue) >= self._batch_size:
                self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Send everything queued now; True when the queue is empty and nothing is in flight."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flush_waiters += 1
            self._cond.notify_all()
            try:
                while self._queue or self._in_flight:
                    if self._thread is None or not self._thread.is_alive():
                        return False
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._flush_waiters -= 1

    def close(self, timeout: float = 5.0) -> bool:
        """Flush for at most `timeout` seconds, then stop.

        True when the queue drained; events still queued at the deadline count as dropped.
        """
        with self._cond:
            self._closing = True
            self._close_deadline = time.monotonic() + timeout
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout + 1.0)
        with self._cond:
            left = len(self._queue)
            self._dropped += left
            self._queue.clear()
            return left == 0 and not self._in_flight

    def stats(self) -> EventStats:
        with self._cond:
            return EventStats(
                queued=len(self._queue),
                sent=self._sent,
                dropped=self._dropped,
                rejected=self._rejected,
                failed=self._failed,
            )

    # --- the sender thread ---------------------------------------------------------------

    def _after_fork(self) -> None:
        # A forked child (gunicorn --preload, Celery prefork) inherits the queue but not the
        # sender thread, and the lock in whatever state that thread left it.
        self._cond = threading.Condition()
        self._thread = None
        self._in_flight = 0

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="adnet-events", daemon=True)
            self._thread.start()

    def _next_batch(self) -> list[dict[str, Any]] | None:
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait()
            # Linger briefly so a burst of settlements becomes one request, not hundreds.
            linger_until = time.monotonic() + self._linger
            while (
                len(self._queue) < self._batch_size
                and not self._closing
                and not self._flush_waiters
            ):
                remaining = linger_until - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            count = min(self._batch_size, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            self._in_flight = count
            return batch

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._deliver(batch)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        attempt = 0
        while batch:
            attempt += 1
            try:
                delivery = self._send(batch)
            except Exception:  # the sender must survive anything, or events pile up forever
                logger.exception("adnet: sending %d events failed unexpectedly", len(batch))
                delivery = Delivery(retry=batch)
            with self._cond:
                self._sent += len(batch) - len(delivery.retry) - delivery.rejected
                self._rejected += delivery.rejected
                self._in_flight = len(delivery.retry)
            batch = delivery.retry
            if not batch:
                return
            pause = min(self._backoff * 2 ** (attempt - 1), self._max_backoff)
            if attempt >= self._max_attempts or time.monotonic() + pause > self._close_deadline:
                logger.warning(
                    "adnet: giving up on %d events after %d attempts", len(batch), attempt
                )
                with self._cond:
                    self._failed += len(batch)
                return
            with self._cond:
                # close() cuts the pause short; its deadline then decides whether to go on.
                self._cond.wait_for(lambda: self._closing, timeout=pause)


def reset_in_forked_children(obj: object) -> None:
    """Call obj._after_fork() in every forked child, without keeping obj alive."""
    ref = weakref.ref(obj)

    def after_fork() -> None:
        alive = ref()
        if alive is not None:
            alive._after_fork()  # type: ignore[attr-defined]

    os.register_at_fork(after_in_child=after_fork)
