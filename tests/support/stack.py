"""The `stack` fixture: a private Redis, the web server (uWSGI), Celery workers and the
per-second loops as real processes.

Every process is killed (its whole process group) in a finalizer, before pytest-django
flushes or drops the test database they are connected to; their logs are printed when the
test failed. A conftest uses it with `from tests.support.stack import *`: the fixture and
the report hook it needs to know whether the test failed.
"""

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis as redis_client
from django.db import connection

from campaigns import catalog
from campaigns import services as campaign_services
from tests.support import procs

__all__ = ["Stack", "pytest_runtest_makereport", "service_env", "stack"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(node) -> bool:
    return any(
        getattr(node, f"report_{when}", None) is not None and getattr(node, f"report_{when}").failed
        for when in ("setup", "call")
    )


def service_env(*, database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        BUDGET_REDIS_PREFIX="adnet:",
        DJANGO_SETTINGS_MODULE="adnet.settings",
        EVENT_SWEEP_SECONDS="1",
        EVENT_REDISPATCH_SECONDS="2",
        EVENT_LEASE_SECONDS="5",
        ATTRIBUTION_SWEEP_SECONDS="1",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    return env


@dataclass
class Stack:
    """The processes of one test; `logs` lists every log file, in start order."""

    tmp: Path
    redis: procs.RedisServer
    env: dict[str, str]
    processes: list[procs.Process] = field(default_factory=list)
    web_port: int = 0

    def start_web(self, env: dict[str, str] | None = None) -> int:
        port = procs.free_port()
        server = procs.web_server(port, env or self.env, self.tmp / f"uwsgi-{port}.log")
        self.processes.append(server)  # before waiting: a server that never answers is killed too
        procs.wait_until_answering(server, port)
        return port

    def start_worker(self) -> procs.Process:
        """A Celery worker with beat, and the loops process beside it unless one runs."""
        n = sum(1 for p in self.processes if p.name == "celery worker") + 1
        worker = procs.celery_worker(
            self.env, self.tmp / f"beat-schedule-{n}", self.tmp / f"celery-worker-{n}.log"
        )
        self.processes.append(worker)
        if not any(p.name == "loops" and p.alive() for p in self.processes):
            loops = procs.loops_process(self.env, self.tmp / f"loops-{n}.log")
            self.processes.append(loops)
            procs.wait_until_looping(loops)
        procs.wait_until_ready(worker)
        return worker

    def publish_campaigns(self) -> None:
        """For campaigns a test wrote straight to the database, what the campaign services
        do after a change: a new catalog version in PostgreSQL, published to this stack's
        Redis. The running server processes then rebuild their snapshots at their next
        match (they build them before their first request, so they would not see them)."""
        campaign_services.bump_catalog()
        client = redis_client.Redis.from_url(self.redis.url)
        try:
            client.set(f"{self.env['BUDGET_REDIS_PREFIX']}catalog", catalog.version())
        finally:
            client.close()

    def logs(self) -> str:
        parts = []
        for process in self.processes:
            parts.append(f"===== {process.name} ({process.log}) =====\n{process.output()}")
        if self.redis.log.exists():
            parts.append(f"===== redis-server ({self.redis.log}) =====")
            parts.append(self.redis.log.read_text(errors="replace"))
        return "\n".join(parts)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.kill()
        if self.redis.process is not None:
            self.redis.process.kill()
            self.redis.process = None


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture
def stack(request, transactional_db, tmp_path):
    """A private redis-server and the web server on free ports, pointing at the test database.

    Depends on transactional_db so that its finalizer runs first: no process may still be
    connected when the database is flushed or dropped.
    """
    redis = procs.RedisServer(procs.free_port(), tmp_path / "redis.log")
    env = service_env(
        database_url=procs.database_url(connection.settings_dict), redis_url=redis.url
    )
    services = Stack(tmp=tmp_path, redis=redis, env=env)
    # A pytest stopped with SIGTERM (a CI timeout) still stops the processes.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    failed = True  # until the test says otherwise: a failed start shows the logs too
    try:
        redis.start()
        services.web_port = services.start_web()
        yield services
        failed = _failed(request.node)
    finally:
        signal.signal(signal.SIGTERM, previous)
        services.stop_all()
        if failed:
            print(f"\n----- logs of {request.node.name} -----\n{services.logs()}")
