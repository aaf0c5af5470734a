"""Django's PostgreSQL backend whose connections never wait past the request's deadline.

Every wait of a psycopg connection on the server (queries, fetches, commits, the health
check's `SELECT 1`) goes through `Connection.wait`; `DeadlineConnection` gives it what is
left of the deadline as its timeout. When it runs out the connection is abandoned (the
server may still be working on what was sent, so its state is unknown) and the wait
raises `DeadlineExceeded`, an OperationalError: Django closes the connection at the end of
the request and the API answers 503. A request whose deadline has passed does not open a
new connection either. Opening one stays bounded by `connect_timeout` (at least 2 s by
libpq's convention, which psycopg follows).

Once a request has given up on the database (a wait ran out, or connecting failed), this
process's requests do not try to connect again for DB_RETRY_AFTER_MS: they answer 503 at
once instead of each spending seconds on a database known to be sick, so a web worker
keeps answering what needs no database (the beacon, /v1/ping) even under load. Without a
deadline (the Celery worker, management commands) nothing of this applies.
"""

import time

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import connection as psycopg_connection
from psycopg import errors as psycopg_errors

from adnet.core import deadline


class DeadlineExceeded(psycopg.OperationalError):
    """The request's deadline passed while it waited for PostgreSQL."""


class DeadlineConnection(psycopg.Connection):
    server = ""  # which database (_server()), set when it is opened

    def wait(self, gen, interval=psycopg_connection._WAIT_INTERVAL, timeout=None):
        left = deadline.remaining()
        if left is None:
            return super().wait(gen, interval, timeout)
        if left <= 0:  # nothing sent yet: the connection itself is fine
            raise DeadlineExceeded("the request's deadline passed before this query")
        bounded = left if timeout is None else min(timeout, left)
        try:
            return super().wait(gen, interval, bounded)
        except psycopg_errors._WaitTimeout:  # what Connection.wait raises on its timeout
            if timeout is not None and timeout <= left:
                raise  # the caller's own, shorter timeout
            self._abandon()

    def _abandon(self):
        self.pgconn.finish()
        _gave_up(self.server)
        raise DeadlineExceeded("the request's deadline passed waiting for the database")


# By database: when this process's requests may try to connect again (time.monotonic()).
_retry_at: dict[str, float] = {}


def _server(conn_params: dict) -> str:
    return f"{conn_params.get('host')}:{conn_params.get('port')}/{conn_params.get('dbname')}"


def _gave_up(server: str) -> None:
    _retry_at[server] = time.monotonic() + settings.DB_RETRY_AFTER_MS / 1000


class _Driver:
    """The psycopg module as Django's backend uses it, connecting with DeadlineConnection."""

    connect = DeadlineConnection.connect

    def __getattr__(self, name):
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Driver()

    def get_new_connection(self, conn_params):
        server, left = _server(conn_params), deadline.remaining()
        if left is not None:
            if left <= 0:
                raise DeadlineExceeded("the request's deadline passed before connecting")
            if time.monotonic() < _retry_at.get(server, 0.0):
                raise DeadlineExceeded("the database did not answer moments ago")
        try:
            connection = super().get_new_connection(conn_params)
        except psycopg.OperationalError:
            if left is not None:
                _gave_up(server)
            raise
        connection.server = server
        return connection
