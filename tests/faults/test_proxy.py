"""nginx with deploy/nginx.conf in front of the production web server, as clients meet it:
oversized bodies, TLS, a slow client and the forwarded scheme."""

import http.client
import json
import socket
import ssl
import threading
import time

import pytest

from facilitators import services as facilitator_services
from tests.factories import FacilitatorFactory
from tests.support import procs, proxy

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

REPEATS = 50
MATCH = {
    "resourceUrl": "https://api.example.com/v1/quote",
    "network": "eip155:8453",
    "payerWallet": "0x" + "22" * 20,
    "settledAmount": "10000",
}


@pytest.fixture
def proxied(stack, settings):
    """uWSGI as production runs it behind the proxy (HTTPS=1, BEHIND_PROXY=1), nginx in front."""
    port = stack.start_web(env={**stack.env, "HTTPS": "1", "BEHIND_PROXY": "1"})
    front = proxy.start(
        stack.tmp,
        port,
        max_body=settings.API_MAX_BODY_BYTES,
        max_batch_body=settings.API_MAX_BATCH_BODY_BYTES,
    )
    stack.processes.append(front.process)  # killed with the others, its log shown on failure
    return port, front


def tls_socket(front: proxy.Proxy, timeout: float = 30) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", front.https_port), timeout=timeout)
    return front.tls_context().wrap_socket(raw, server_hostname="localhost")


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length: status, lower-cased headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the headers: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def post_while_sending(front: proxy.Proxy, path: str, size: int) -> tuple[int, dict]:
    """POST `size` bytes in 64 KiB writes, whatever the proxy answers meanwhile, then read
    the answer: a reset anywhere raises."""
    with tls_socket(front) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer unused\r\nContent-Length: {size}\r\n\r\n"
        )
        sock.sendall(head.encode())
        piece = b"x" * 65536
        for start in range(0, size, len(piece)):
            sock.sendall(piece[: size - start])
        status, _, body = read_response(sock)
    return status, json.loads(body)


def posts_logged(front: proxy.Proxy, count: int) -> list[dict]:
    """The access log's POST entries, once there are `count`: nginx writes an entry when it
    has finished with the connection, after the client has read its answer."""

    def posts() -> list[dict]:
        lines = front.process.output().splitlines()
        entries = [json.loads(line) for line in lines if line.startswith('{"time"')]
        return [entry for entry in entries if entry["method"] == "POST"]

    procs.wait_for(lambda: len(posts()) >= count, timeout=30, what=f"{count} POSTs logged")
    return posts()


def test_an_oversized_body_gets_a_413_in_the_api_shape_and_never_a_reset(proxied):
    _, front = proxied
    for path, size in (("/v1/match", 1_100_000), ("/v1/events", 2_000_000)):
        for _ in range(REPEATS):
            status, answer = post_while_sending(front, path, size)
            assert status == 413, answer
            assert answer["error"]["code"] == "body_too_large"

    refused = posts_logged(front, 2 * REPEATS)
    assert len(refused) == 2 * REPEATS
    # Refused by nginx itself: no uWSGI worker saw any of them.
    assert {(entry["status"], entry["upstream_status"]) for entry in refused} == {(413, "")}


def test_a_body_over_its_endpoints_limit_is_refused_by_the_proxy_with_the_apps_message(
    proxied, settings
):
    # Under the batch limit but over /v1/match's: uWSGI would refuse it without reading it.
    size = settings.API_MAX_BODY_BYTES * 30
    for _ in range(REPEATS):
        status, answer = post_while_sending(proxied[1], "/v1/match", size)
        assert status == 413, answer
        assert answer["error"] == {
            "code": "body_too_large",
            "message": f"The request body is larger than {settings.API_MAX_BODY_BYTES} bytes.",
            "details": None,
        }

    refused = posts_logged(proxied[1], REPEATS)
    assert len(refused) == REPEATS
    assert {(entry["status"], entry["upstream_status"]) for entry in refused} == {(413, "")}

    # At the limit it goes through to the app, which reads it and refuses the key.
    status, answer = post_while_sending(proxied[1], "/v1/match", settings.API_MAX_BODY_BYTES)
    assert status == 401, answer


def test_match_and_healthz_answer_over_tls_on_one_kept_alive_connection(proxied):
    _, front = proxied
    key = facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id).api_key
    conn = http.client.HTTPSConnection(
        "127.0.0.1", front.https_port, context=front.tls_context(), timeout=30
    )
    conn.connect()
    first_socket = conn.sock
    try:
        conn.request("GET", "/healthz")
        health = conn.getresponse()
        assert health.status == 200
        assert "status" in json.loads(health.read())
        assert not health.will_close  # uWSGI closes each connection; the proxy keeps the client's

        conn.request(
            "POST",
            "/v1/match",
            body=json.dumps(MATCH),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        match = conn.getresponse()
        answer = json.loads(match.read())
        assert match.status == 200, answer
        assert "matched" in answer
        assert conn.sock is first_socket
        assert conn.sock.version() in {"TLSv1.2", "TLSv1.3"}
    finally:
        conn.close()


def test_slow_clients_do_not_hold_the_web_workers(proxied):
    _, front = proxied
    workers = 2  # procs.web_server's --processes
    trickle_seconds = 6.0
    stop = threading.Event()

    def slow_client() -> None:
        # Its headers at once, then a byte of its body now and then: a worker that waited
        # on this body would be lost to everyone else for as long as it trickles.
        with tls_socket(front) as sock:
            sock.sendall(
                b"POST /v1/match HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n"
            )
            while not stop.wait(0.5):
                sock.sendall(b" ")

    slow = [threading.Thread(target=slow_client) for _ in range(workers * 2)]
    for thread in slow:
        thread.start()
    try:
        time.sleep(1.0)  # every slow client has sent its headers and started its body
        started = time.monotonic()
        answered = []
        while time.monotonic() - started < trickle_seconds - 2:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", front.https_port, context=front.tls_context(), timeout=3
            )
            try:
                conn.request("GET", "/v1/ping")
                answered.append(conn.getresponse().status)
            finally:
                conn.close()
        assert answered
        assert set(answered) == {200}
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=15)


def test_the_app_sees_the_scheme_the_client_used(proxied):
    port, front = proxied

    conn = http.client.HTTPSConnection(
        "127.0.0.1", front.https_port, context=front.tls_context(), timeout=30
    )
    try:
        conn.request("GET", "/v1/ping")
        secure = conn.getresponse()
        secure.read()
    finally:
        conn.close()
    assert secure.status == 200
    assert secure.getheader("Strict-Transport-Security", "").startswith("max-age=")

    # Plain HTTP through the proxy, and straight to uWSGI (no X-Forwarded-Proto): redirected.
    for target in (front.http_port, port):
        conn = http.client.HTTPConnection("127.0.0.1", target, timeout=30)
        try:
            conn.request("GET", "/v1/ping", headers={"Host": "localhost"})
            plain = conn.getresponse()
            plain.read()
        finally:
            conn.close()
        assert plain.status == 301
        assert plain.getheader("Location") == "https://localhost/v1/ping"
        assert "Strict-Transport-Security" not in plain.headers

    assert front.process.alive()
    assert procs.request(front.http_port, "GET", "/metrics")[0] == 404
