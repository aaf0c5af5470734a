"""The quick start, the way a newcomer meets it: a fresh clone, `make run`, the printed curl.

Runs against a clone of HEAD in a temporary directory with no DATABASE_URL and no REDIS_URL
(the embedded default: SQLite and the Celery filesystem broker), so it never touches this
working tree and only sees committed files.
"""

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300.0
WORKER_TIMEOUT = 60.0
# Settings that would point the clone at services or at this working tree.
SCRUBBED_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "ADNET_VAR_DIR",
    "STATIC_ROOT",
    "PUBLIC_BASE_URL",
    "ALLOWED_HOSTS",
    "DEBUG",
    "HOST",
    "PORT",
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "PYTHONPATH",
    "DJANGO_SETTINGS_MODULE",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)
WORKER_READY = re.compile(r"celery@\S+ ready\.")


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120
    )
    return result.stdout.strip()


def _unattributed(database: Path) -> int:
    """Observed settlements not yet checked for conversions, read from the quick start's
    SQLite file."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
        return db.execute(
            "SELECT count(*) FROM campaigns_matchrequest WHERE NOT attributed"
        ).fetchone()[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _newcomer_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    # A newcomer has no activated virtualenv of this checkout on PATH.
    env["PATH"] = os.pathsep.join(
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and not Path(entry).resolve().is_relative_to(REPO_ROOT)
    )
    return env


def _get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class _AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])
            if "stylesheet" in (attrs.get("rel") or "").split():
                self.styles.append(attrs["href"])


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the whole process group (make, serve, uWSGI, celery), then SIGKILL it."""
    pgid = proc.pid  # start_new_session=True: the group id is the leader's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        proc.poll()  # reap make so the group can empty
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@pytest.mark.smoke
def test_make_run_quick_start_from_a_fresh_clone():
    head = _git("rev-parse", "HEAD", cwd=REPO_ROOT)
    with tempfile.TemporaryDirectory(prefix="adnet-quickstart-", ignore_cleanup_errors=True) as tmp:
        clone = Path(tmp) / "adnet"
        _git("clone", "--quiet", str(REPO_ROOT), str(clone), cwd=Path(tmp))
        _git("checkout", "--quiet", "--detach", head, cwd=clone)
        assert _git("rev-parse", "HEAD", cwd=clone) == head

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "make-run.log"
        started = time.monotonic()
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                ["make", "run", f"PORT={port}"],
                cwd=clone,
                env=_newcomer_env(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def log() -> str:
            return log_path.read_text(errors="replace")

        try:
            # 1. `make run` installs, migrates, seeds, prints a curl line and serves.
            curl_line = None
            healthy = None
            deadline = started + START_TIMEOUT
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"`make run` exited early with status {proc.returncode}")
                if curl_line is None:
                    curl_line = next(
                        (line for line in log().splitlines() if line.startswith("curl ")), None
                    )
                if curl_line is not None:
                    try:
                        healthy = _get(f"{base}/healthz", timeout=5)
                    except OSError:
                        healthy = None
                    if healthy is not None and healthy[0] == 200:
                        break
                time.sleep(1)
            assert curl_line is not None, "no line starting with `curl ` was printed"
            assert healthy is not None, f"the server never answered {base}/healthz"
            assert healthy[0] == 200, healthy
            health = json.loads(healthy[1])
            # Degraded at most (report rollups run a minute after the start).
            assert health["status"] != "down", health
            assert health["parts"]["database"]["vendor"] == "sqlite", health
            assert health["parts"]["broker"]["kind"] == "filesystem", health

            # 2. The printed curl line, run exactly as printed, gets a sponsored match.
            assert f"{base}/v1/match" in curl_line, curl_line
            result = subprocess.run(
                ["bash", "-c", curl_line], capture_output=True, text=True, timeout=30
            )
            assert result.returncode == 0, result.stderr
            match = json.loads(result.stdout)
            assert match.get("matched") is True, match

            # 3. The API docs render, and every asset they load is served by this server.
            status, body = _get(f"{base}/v1/docs")
            assert status == 200, body[:500]
            html = body.decode()
            external = [
                url
                for url in re.findall(r"https?://[^\s\"'<>)]+", html)
                if not url.startswith(base)
            ]
            assert external == [], f"docs page references external URLs: {external}"
            parser = _AssetParser()
            parser.feed(html)
            assert parser.scripts, "docs page loads no scripts"
            assert parser.styles, "docs page loads no stylesheets"
            for asset in parser.scripts + parser.links:
                url = urljoin(f"{base}/v1/docs", asset)
                assert url.startswith(f"{base}/"), f"asset not served locally: {asset}"
                status, content = _get(url)
                assert status == 200, f"{url} -> {status}"
                assert content, f"{url} is empty"
            status, schema = _get(f"{base}/v1/schema")
            assert status == 200, schema[:500]

            # 4. A Celery worker runs beside the server, logging to its own file.
            worker_log = clone / "var" / "log" / "worker.log"

            def worker_said() -> str:
                return worker_log.read_text(errors="replace") if worker_log.exists() else ""

            deadline = time.monotonic() + WORKER_TIMEOUT
            while not WORKER_READY.search(worker_said()) and time.monotonic() < deadline:
                time.sleep(1)
            assert WORKER_READY.search(worker_said()), "the Celery worker never reported ready"

            # 5. The loops beside the worker check the match's settlement for conversions
            # (every 2 s), as they do on PostgreSQL.
            database = clone / "var" / "adnet.sqlite3"
            deadline = time.monotonic() + WORKER_TIMEOUT
            while (waiting := _unattributed(database)) and time.monotonic() < deadline:
                time.sleep(1)
            assert waiting == 0, "the worker never checked the settlement for conversions"
            assert proc.poll() is None, "`make run` exited while serving"

            # 6. The terminal stays readable: no log lines, the URLs and the demo's key and
            # curl last; and nothing is left in the clone outside var/.
            terminal = log().splitlines()
            assert not [line for line in terminal if line.lstrip().startswith("{")], terminal
            assert len(terminal) <= 40, terminal
            # The banner is what the terminal ends with: URLs, key, curl and sign-ins.
            banner = terminal[-16:]
            assert any(line.startswith("curl ") for line in banner), banner
            assert any(f"{base}/admin/" in line for line in banner), banner
            assert any(f"{base}/v1/docs" in line for line in banner), banner
            assert any("var/log/web.log" in line for line in banner), banner
            assert any("demo-advertiser" in line for line in banner), banner
            assert any("demo-operator" in line for line in banner), banner
            stray = _git("status", "--porcelain", "--untracked-files=all", cwd=clone)
            assert stray == "", f"`make run` left files outside var/: {stray}"
        except BaseException:
            print(f"\n----- make run log ({log_path}) -----\n{log()}\n----- end of log -----")
            raise
        finally:
            _stop(proc)
            print(f"quick-start smoke: {time.monotonic() - started:.1f}s after `make run`")
