"""JSON over HTTP with the standard library: one keep-alive connection per thread."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# A stale keep-alive connection (the server closed it while idle) fails like this before
# the request reached the application, so sending once more on a fresh connection is safe.
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # the parsed JSON, or None when the body was empty or not JSON


class Transport:
    """POSTs JSON to one base URL with a bearer key.

    Each thread keeps its own connection (http.client connections are not thread-safe),
    so the match workers and the event sender never wait for each other, and a network
    behind TLS pays the handshake once per thread rather than once per settlement.
    """

    def __init__(self, base_url: str, api_key: str, *, user_agent: str):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        if not api_key:
            raise ValueError("api_key is required")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent,
        }
        self._ssl = ssl.create_default_context() if self._https else None
        self._local = threading.local()

    def post_json(self, path: str, body: Any, *, timeout: float) -> Response:
        """One POST. Each socket operation gets at most the time left of `timeout`.

        Raises OSError (refused, reset, timed out) or http.client.HTTPException; the
        callers decide what a failure means for them.
        """
        deadline = time.monotonic() + timeout
        payload = json.dumps(body, separators=(",", ":")).encode()
        for attempt in range(2):
            conn, reused = self._connection(deadline)
            try:
                conn.request("POST", self._prefix + path, body=payload, headers=self._headers)
                response = conn.getresponse()
                raw = response.read()
            except _STALE_CONNECTION_ERRORS:
                self._drop()
                if reused and attempt == 0 and time.monotonic() < deadline:
                    continue
                raise
            except BaseException:
                self._drop()
                raise
            if response.will_close:
                self._drop()
            return Response(response.status, _parse(raw))
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close this thread's connection (the others close with their threads)."""
        self._drop()

    def forget_connections(self) -> None:
        """In a forked child: the sockets belong to the parent, so leave them alone."""
        self._local = threading.local()

    def _connection(self, deadline: float) -> tuple[http.client.HTTPConnection, bool]:
        remaining = max(deadline - time.monotonic(), 0.001)
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None:
            conn.timeout = remaining
            conn.sock.settimeout(remaining)
            return conn, True
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=remaining, context=self._ssl
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=remaining)
        self._local.conn = conn
        return conn, False

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
