"""Django's PostgreSQL backend whose connections never wait past the request's deadline.

Every wait of a psycopg connection on the server (queries, fetches, commits, the health
check's `SELECT 1`) goes through `Connection.wait`; `DeadlineConnection` gives it what is
left of the deadline as its timeout. When it runs out the connection is abandoned (the
server may still be working on what was sent, so its state is unknown) and the wait
raises `DeadlineExceeded`, an OperationalError: Django closes the connection at the end of
the request and the API answers 503. A request whose deadline has passed does not open a
new connection either. Opening one stays bounded by `connect_timeout` (at least 2 s by
libpq's convention, which psycopg follows). Without a deadline nothing changes.
"""

import psycopg
from django.db.backends.postgresql import base
from psycopg import connection as psycopg_connection
from psycopg import errors as psycopg_errors

from adnet.core import deadline


class DeadlineExceeded(psycopg.OperationalError):
    """The request's deadline passed while it waited for PostgreSQL."""


class DeadlineConnection(psycopg.Connection):
    def wait(self, gen, interval=psycopg_connection._WAIT_INTERVAL, timeout=None):
        left = deadline.remaining()
        if left is None:
            return super().wait(gen, interval, timeout)
        if left <= 0:
            self._abandon()
        bounded = left if timeout is None else min(timeout, left)
        try:
            return super().wait(gen, interval, bounded)
        except psycopg_errors._WaitTimeout:  # what Connection.wait raises on its timeout
            if timeout is not None and timeout <= left:
                raise  # the caller's own, shorter timeout
            self._abandon()

    def _abandon(self):
        self.pgconn.finish()
        raise DeadlineExceeded("the request's deadline passed waiting for the database")


class _Driver:
    """The psycopg module as Django's backend uses it, connecting with DeadlineConnection."""

    connect = DeadlineConnection.connect

    def __getattr__(self, name):
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Driver()

    def get_new_connection(self, conn_params):
        left = deadline.remaining()
        if left is not None and left <= 0:
            raise DeadlineExceeded("the request's deadline passed before connecting")
        return super().get_new_connection(conn_params)
