"""A request id sent to the API shows up on the log lines of the Celery task it caused."""

import datetime as dt
import http.client
import json

import pytest

from facilitators import services as facilitator_services
from tests.factories import FacilitatorFactory
from tests.support import procs

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.real_broker,
    pytest.mark.django_db(transaction=True),
]


def test_request_id_reaches_the_worker_logs(stack):
    key = facilitator_services.issue_facilitator_key(facilitator_id=FacilitatorFactory().id).api_key
    worker = stack.start_worker()
    body = json.dumps(
        {
            "txHash": "0x" + "ab" * 32,
            "network": "eip155:8453",
            "resource": {"url": "https://api.example.com/v1/quote"},
            "payer": "0x" + "11" * 20,
            "settledAmount": "1",
            "timestamp": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(),
        }
    )
    conn = http.client.HTTPConnection("127.0.0.1", stack.web_port, timeout=10)
    conn.request(
        "POST",
        "/v1/events",
        body=body,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "X-Request-ID": "trace-4711-abc",
        },
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 202
    assert response.getheader("X-Request-ID") == "trace-4711-abc"

    def task_logged() -> bool:
        for line in worker.output().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (
                entry.get("msg") == "settlement events processed"
                and entry.get("request_id") == "trace-4711-abc"
            ):
                return True
        return False

    procs.wait_for(
        task_logged, timeout=30, interval=0.2, what="the task's log line with the request id"
    )
