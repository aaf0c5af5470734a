"""The production web server (uWSGI with adnet/uwsgi.ini) as a client meets it: chunked
request bodies, and stopping on SIGTERM."""

import datetime as dt
import http.client
import json
import signal

import pytest

from events.models import SettlementEvent
from facilitators import services as facilitator_services
from tests.factories import FacilitatorFactory
from tests.support import procs

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def event(n: int) -> dict:
    return {
        "txHash": "0x" + f"{n:064x}",
        "network": "eip155:8453",
        "resource": {"url": "https://api.example.com/v1/quote"},
        "payer": "0x" + "11" * 20,
        "settledAmount": "1",
        "timestamp": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(),
    }


def post_chunked(port: int, key: str, chunks: list[bytes]) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            "/v1/events",
            body=iter(chunks),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_a_chunked_body_is_read_like_one_with_a_length(stack):
    key = facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id).api_key
    sized = event(1)
    status, sized_answer, _ = procs.request(
        stack.web_port, "POST", "/v1/events", body=sized, key=key
    )
    assert status == 202, sized_answer

    raw = json.dumps(event(2)).encode()
    status, chunked_answer = post_chunked(stack.web_port, key, [raw[:10], raw[10:50], raw[50:]])

    assert status == 202, chunked_answer
    assert chunked_answer.keys() == sized_answer.keys()
    assert set(SettlementEvent.objects.values_list("tx_hash", flat=True)) == {
        sized["txHash"],
        event(2)["txHash"],
    }


def test_a_chunked_body_over_the_api_limit_is_refused_and_nothing_is_stored(stack, settings):
    key = facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id).api_key
    limit = max(settings.API_MAX_BODY_BYTES, settings.API_MAX_BATCH_BODY_BYTES)
    padded = event(3) | {"padding": "x" * limit}
    raw = json.dumps(padded).encode()

    status, answer = post_chunked(
        stack.web_port, key, [raw[i : i + 4096] for i in range(0, len(raw), 4096)]
    )

    assert status == 413
    assert answer["error"]["code"] == "body_too_large"
    assert not SettlementEvent.objects.exists()


def test_sigterm_stops_the_server(stack):
    port = stack.start_web()
    server = stack.processes[-1]
    assert procs.request(port, "GET", "/v1/ping")[0] == 200
    # Both workers up (a SIGTERM while a worker is still importing the app is not
    # covered: uWSGI then waits for its supervisor's SIGKILL, see adnet/uwsgi.ini).
    procs.wait_for(
        lambda: server.output().count("WSGI app 0") == 2, timeout=30, what="both workers"
    )

    server.popen.send_signal(signal.SIGTERM)  # the master only, as a process manager would

    assert server.popen.wait(timeout=15) == 0
    with pytest.raises(ConnectionRefusedError):
        procs.request(port, "GET", "/v1/ping", timeout=2)
