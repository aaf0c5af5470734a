"""The request deadline (adnet.core.deadline) against a PostgreSQL that hangs on an
established connection, through a freezing proxy (tests/support/frozen_proxy.py)."""

import threading
import time

import pytest
from django.db import OperationalError, connection

from adnet.core import deadline
from adnet.core.postgresql.base import DatabaseWrapper
from tests.support.frozen_proxy import FrozenProxy

# Without the deadline a frozen query would wait for ever: the proxy thaws after this long
# so that such a test fails on its timing instead of hanging.
THAW_AFTER = 5.0


@pytest.fixture
def proxy():
    proxy = FrozenProxy(
        connection.settings_dict["HOST"] or "127.0.0.1",
        int(connection.settings_dict["PORT"] or 5432),
    )
    yield proxy
    proxy.close()


@pytest.fixture
def via_proxy(proxy):
    """A Django connection to the test database through the proxy."""
    settings_dict = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port}
    wrapper = DatabaseWrapper(settings_dict, alias="via_proxy")
    yield wrapper
    wrapper.close()


def select_one(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def frozen_for(proxy: FrozenProxy, seconds: float) -> threading.Timer:
    proxy.freeze()
    timer = threading.Timer(seconds, proxy.thaw)
    timer.start()
    return timer


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_on_a_frozen_connection_fails_at_the_deadline(proxy, via_proxy):
    assert select_one(via_proxy) == 1
    timer = frozen_for(proxy, THAW_AFTER)
    try:
        started = time.monotonic()
        with deadline.scope(0.5), pytest.raises(OperationalError):
            select_one(via_proxy)
        elapsed = time.monotonic() - started
    finally:
        timer.cancel()
    assert 0.45 < elapsed < 1.5
    # The connection it gave up on is closed, not reused in an unknown state.
    assert via_proxy.connection.closed


@pytest.mark.postgres
@pytest.mark.django_db
def test_past_the_deadline_no_connection_is_opened(proxy, via_proxy):
    with deadline.scope(0.1):
        time.sleep(0.15)
        started = time.monotonic()
        with pytest.raises(OperationalError):
            select_one(via_proxy)
        assert time.monotonic() - started < 0.1
    assert via_proxy.connection is None


@pytest.mark.postgres
@pytest.mark.django_db
def test_after_giving_up_requests_do_not_connect_for_a_while_then_do(proxy, via_proxy, settings):
    settings.DB_RETRY_AFTER_MS = 1000
    assert select_one(via_proxy) == 1
    timer = frozen_for(proxy, THAW_AFTER)
    with deadline.scope(0.3), pytest.raises(OperationalError):
        select_one(via_proxy)
    timer.cancel()
    proxy.thaw()
    # What Django does at the end of the request that failed.
    via_proxy.close_if_unusable_or_obsolete()
    gave_up = time.monotonic()
    # The next requests within DB_RETRY_AFTER_MS answer at once, without trying.
    with deadline.scope(2.0):
        started = time.monotonic()
        with pytest.raises(OperationalError, match="moments ago"):
            select_one(via_proxy)
        assert time.monotonic() - started < 0.1
    # What has no deadline (the Celery worker) is not held back.
    assert select_one(via_proxy) == 1
    via_proxy.close()
    time.sleep(max(0.0, gave_up + 1.0 - time.monotonic()))
    with deadline.scope(2.0):
        assert select_one(via_proxy) == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_without_a_deadline_a_slow_database_is_waited_for(proxy, via_proxy):
    """The Celery worker and management commands have no deadline: they wait."""
    assert select_one(via_proxy) == 1
    frozen_for(proxy, 1.0)
    started = time.monotonic()
    assert select_one(via_proxy) == 1
    assert time.monotonic() - started > 0.9


def test_a_deadline_is_only_ever_tightened():
    assert deadline.remaining() is None
    with deadline.scope(10):
        with deadline.scope(1):
            assert deadline.remaining() <= 1
        with deadline.scope(100):
            assert 9 < deadline.remaining() <= 10
    assert deadline.remaining() is None


def test_report_pages_get_their_statement_timeout(settings):
    settings.REQUEST_DEADLINE_MS = 2500
    settings.REPORTS_STATEMENT_TIMEOUT_MS = 60000
    assert deadline.seconds_for("/v1/match") == 2.5
    assert deadline.seconds_for("/admin/campaigns/") == 2.5
    assert deadline.seconds_for("/admin/reports/overview/") == 60
    assert deadline.seconds_for("/v1/reports/traffic") == 60


def test_a_request_has_its_deadline_until_closed_and_it_never_leaks(settings):
    settings.REQUEST_DEADLINE_MS = 2500
    seen = {}

    class Answer:
        def __iter__(self):
            seen["iterating"] = deadline.remaining()
            yield b"ok"

        def close(self):
            seen["closing"] = deadline.remaining()

    def app(environ, start_response):
        seen["answering"] = deadline.remaining()
        start_response("200 OK", [])
        return Answer()

    answer = deadline.RequestDeadline(app)({"PATH_INFO": "/v1/ping"}, lambda *a: None)
    assert list(answer) == [b"ok"]
    # A caller that never closes the answer keeps no deadline.
    assert deadline.remaining() is None
    answer.close()
    assert deadline.remaining() is None
    assert all(0 < seen[step] <= 2.5 for step in ("answering", "iterating", "closing")), seen
