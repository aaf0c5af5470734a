"""The Celery worker keeps its PostgreSQL connection from task to task, under the rule a web
request follows (CONN_MAX_AGE, health check), instead of Celery's own: a new connection
before and after every task, a new server process whose caches start cold each time."""

import time
from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from adnet import celery as worker_app

pytestmark = pytest.mark.django_db(transaction=True)


def _task(eager: bool = False):
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def _open_connection():
    connection.ensure_connection()
    return connection.connection


def test_the_connection_outlives_the_tasks_around_it():
    fixup = DjangoWorkerFixup(worker_app.app)
    opened = _open_connection()
    for _ in range(3):  # what the worker does around each task, in its order
        fixup.on_task_prerun(sender=_task())
        worker_app._keep_database_connection(task=_task())
        connection.ensure_connection()
        fixup.on_task_postrun(sender=_task())
        worker_app._keep_database_connection(task=_task())
    assert connection.connection is opened
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


# SQLite's test database lives in memory, and Django never closes an in-memory connection
# (closing would drop the database): the closing rule is PostgreSQL's to show.
@pytest.mark.postgres
def test_a_connection_past_its_age_is_closed_between_tasks():
    _open_connection()
    connection.close_at = time.monotonic() - 1
    worker_app._keep_database_connection(task=_task())
    assert connection.connection is None
    with connection.cursor() as cursor:  # the next task connects again
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
def test_a_connection_broken_by_an_error_is_replaced(monkeypatch):
    _open_connection()
    connection.errors_occurred = True
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    worker_app._keep_database_connection(task=_task())
    assert connection.connection is None


def test_a_task_run_inline_leaves_the_callers_connection_alone():
    opened = _open_connection()
    connection.close_at = time.monotonic() - 1
    worker_app._keep_database_connection(task=_task(eager=True))
    assert connection.connection is opened
