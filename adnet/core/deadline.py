"""Each web request's deadline: past it, no wait on PostgreSQL may continue.

A PostgreSQL that hangs on an established connection (the peer's kernel still ACKs, so
TCP keepalives and `tcp_user_timeout` never fire, and a server-side `statement_timeout`
never reaches the server) would hold a web worker until the server kills it; with every
worker held, even requests that need no database wait. The deadline bounds every wait on
the database instead: adnet.core.postgresql gives each of its waits what is left of the
deadline and refuses to connect once it has passed, so the request fails fast (503) and
the worker moves on.

`RequestDeadline` sets it for each request at the WSGI layer, so it covers everything a
worker does for a request, including what runs after the answer is sent (its close()).
`scope()` sets or tightens it for a block (a health probe, a test); without one there is
no deadline (the Celery worker, management commands).
"""

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "adnet_deadline", default=None
)


def remaining() -> float | None:
    """Seconds left before the current deadline (negative once passed); None without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def scope(seconds: float) -> Iterator[None]:
    """A deadline `seconds` from now for the block, or the one already set if it is sooner."""
    deadline = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(deadline if current is None else min(current, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def seconds_for(path: str) -> float:
    """The deadline of a request for `path`: report pages and exports may run queries for
    as long as their statement timeout allows; everything else gets REQUEST_DEADLINE_MS."""
    if path.startswith(settings.REQUEST_DEADLINE_SLOW_PATHS):
        return max(settings.REPORTS_STATEMENT_TIMEOUT_MS, settings.REQUEST_DEADLINE_MS) / 1000
    return settings.REQUEST_DEADLINE_MS / 1000


class RequestDeadline:
    """WSGI middleware: a deadline for each request, from its start until the server has
    closed its answer. The application, the answer's iteration and its close() run in a
    context of their own, so the deadline never outlives the request, even for a caller
    that does not close the answer."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        context = contextvars.copy_context()
        deadline = time.monotonic() + seconds_for(environ.get("PATH_INFO", ""))
        answer = context.run(self._start, deadline, environ, start_response)
        if isinstance(answer, list):  # made already: nothing of the request runs later
            return answer
        return _InContext(answer, context)

    def _start(self, deadline: float, environ, start_response):
        _deadline.set(deadline)
        return self.app(environ, start_response)


class _InContext:
    """An answer's body, iterated and closed in the request's context."""

    def __init__(self, answer, context: contextvars.Context):
        self.answer, self.context = answer, context

    def __iter__(self):
        chunks = self.context.run(iter, self.answer)
        while True:
            try:
                yield self.context.run(next, chunks)
            except StopIteration:
                return

    def close(self) -> None:
        close = getattr(self.answer, "close", None)
        if close is not None:
            self.context.run(close)
