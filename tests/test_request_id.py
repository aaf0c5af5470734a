"""Request ids: echoed, generated when missing or unsafe, and on every log line."""

import json
import logging

import pytest
from django.test import Client

from adnet.core import logs, requestid


@pytest.mark.django_db
def test_request_id_is_echoed_or_generated():
    client = Client()
    assert client.get("/v1/ping", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    generated = client.get("/v1/ping")["X-Request-ID"]
    assert len(generated) == 32
    unsafe = client.get("/v1/ping", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert unsafe != "<script>"
    assert len(unsafe) == 32


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("adnet.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    record.events = 3
    token = requestid.current.set("req-7")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        requestid.current.reset(token)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["msg"] == "hello x"
    assert line["request_id"] == "req-7"
    assert line["events"] == 3
    assert line["level"] == "INFO"
