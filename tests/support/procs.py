"""Real processes for the fault and end-to-end tests: a private Redis, the web server (uWSGI),
a Celery worker (with beat) and the per-second loops (`manage.py runloops`).

Each runs in its own session (process group) with its output in a log file, so a test can
kill it whole, as `kill -9` would, and print what it said when an assertion fails.
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
REDIS_SERVER = "/usr/bin/redis-server"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll until predicate() is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def database_url(settings_dict: dict, *, host: str | None = None, port: int | None = None) -> str:
    """A DATABASE_URL for the database Django is using now (under pytest: the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = host or settings_dict.get("HOST") or "127.0.0.1"
    port = port or settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


class Process:
    """One child process in its own session, its stdout and stderr in `log`."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None):
        self.name, self.argv, self.log, self.env = name, argv, log, env
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pgid(self) -> int:
        assert self.popen is not None
        return self.popen.pid  # start_new_session: the child leads its own process group

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 15.0) -> None:
        """Signal the whole process group and reap the leader; SIGKILL if it lingers."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, sig)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
            self.popen.wait(timeout=timeout)
        # Children that outlived the leader (pool processes) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited early:\n{self.output()[-5000:]}")


class RedisServer:
    """A private, non-persistent redis-server that can be stopped and started on one port."""

    def __init__(self, port: int, log: Path):
        self.port, self.log = port, log
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no"]
        self.process = Process("redis-server", argv, self.log).start()
        wait_for(self._pong, timeout=START_TIMEOUT, what=f"redis on port {self.port}")

    def stop(self) -> None:
        """The broker goes away abruptly, as in a crash; the port then refuses connections."""
        if self.process is not None:
            self.process.kill(signal.SIGKILL)
            self.process = None
        wait_for(lambda: not self._pong(), timeout=10, what="redis to stop")

    def _pong(self) -> bool:
        if self.process is not None:
            self.process.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def web_server(port: int, env: dict, log: Path) -> Process:
    """The production web server as scripts/serve runs it (adnet/uwsgi.ini), two workers."""
    argv = [str(VENV_BIN / "uwsgi"), "--ini", str(REPO_ROOT / "adnet" / "uwsgi.ini")]
    argv += ["--http-socket", f"127.0.0.1:{port}", "--processes", "2"]
    return Process(f"uwsgi :{port}", argv, log, env).start()


def wait_until_answering(server: Process, port: int) -> None:
    def answering() -> bool:
        server.check_alive()
        try:
            # Any answer will do: with the database down /healthz still answers, slowly.
            request(port, "GET", "/healthz", timeout=10)
        except OSError:
            return False
        return True

    wait_for(answering, timeout=START_TIMEOUT, interval=0.2, what=f"{server.name} to answer")


def celery_worker(env: dict, schedule: Path, log: Path) -> Process:
    argv = [str(VENV_BIN / "celery"), "-A", "adnet", "worker", "--beat", "--concurrency=2"]
    argv += ["--loglevel=INFO", "-s", str(schedule)]
    return Process("celery worker", argv, log, env).start()


def wait_until_ready(worker: Process) -> None:
    def ready() -> bool:
        worker.check_alive()
        return " ready." in worker.output()

    wait_for(ready, timeout=START_TIMEOUT, interval=0.2, what="the celery worker to be ready")


def loops_process(env: dict, log: Path) -> Process:
    argv = [str(VENV_BIN / "python"), str(REPO_ROOT / "manage.py"), "runloops"]
    return Process("loops", argv, log, env).start()


def wait_until_looping(loops: Process) -> None:
    def running() -> bool:
        loops.check_alive()
        return "loops running" in loops.output()

    wait_for(running, timeout=START_TIMEOUT, interval=0.2, what="the loops to start")


def request(
    port: int,
    method: str,
    path: str,
    *,
    body=None,
    key: str | None = None,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict | None, float]:
    """One HTTP request on a fresh connection: (status, JSON body or None, seconds taken)."""
    headers = {"Accept": "application/json", **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key:
        headers["Authorization"] = f"Bearer {key}"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = {"raw": raw.decode(errors="replace")}
    return response.status, data, elapsed
