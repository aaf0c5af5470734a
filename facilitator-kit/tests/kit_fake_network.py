"""A local stand-in for the ad network: answers what a test tells it and records every request."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, Any]  # (status, JSON body)
Handler = Callable[[Any], Reply]

MATCH = {
    "matched": True,
    "campaignId": "7d0c54a4-7f1c-4a4b-9d7e-1f6a4d1f2b11",
    "recommendation": {
        "resourceUrl": "https://weather.example.net/v1/forecast",
        "description": "Hourly forecasts",
        "sponsor": "Weather Co.",
    },
    "impressionBeacon": "https://ads.example.org/v1/track/impression/tok123",
    "conversionResource": "https://weather.example.net/v1/forecast",
    "impressionToken": "tok123",
    "tracking": {"clickUrl": "https://ads.example.org/v1/track/click/tok123"},
}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up early (the timeout tests) is expected, not news


class FakeNetwork:
    """`with FakeNetwork() as net:` serves on a free loopback port until the block ends.

    `net.handlers[path]` takes the parsed JSON body and returns (status, body); `net.delay`
    makes every answer late. `net.requests` lists (path, headers, body) in arrival order.
    """

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {
            "/v1/match": lambda body: (200, MATCH),
            "/v1/events": lambda body: (202, {"accepted": True}),
            "/v1/conversions": lambda body: (202, {"accepted": True, "reportId": "r-1"}),
        }
        self.delay = 0.0
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.connections: list[Any] = []  # every accepted socket
        self._lock = threading.Lock()
        network = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a production server would

            def setup(self) -> None:
                super().setup()
                with network._lock:
                    network.connections.append(self.connection)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with network._lock:
                    network.requests.append((self.path, dict(self.headers), body))
                if network.delay:
                    time.sleep(network.delay)
                status, reply = network.handlers[self.path](body)
                raw = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), RequestHandler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeNetwork:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def drop_idle_connections(self) -> None:
        """Close every connection without a word, as a server's idle timeout does."""
        with self._lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def bodies(self, path: str) -> list[Any]:
        with self._lock:
            return [body for p, _, body in self.requests if p == path]


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
