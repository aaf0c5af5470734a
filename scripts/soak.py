"""`make soak`: the embedded default under steady traffic; fails if background work falls behind.

Starts what `make run` starts (migrate, seeddemo, scripts/serve: uWSGI, a Celery worker with
beat, the loops) with no DATABASE_URL or REDIS_URL, in a temporary directory
(ADNET_VAR_DIR) so the developer's var/ is never touched. For SOAK_SECONDS (default 300)
it sends SOAK_RATE (default 5) matches and as many settlement events a second, then checks:
- the broker queue stays flat: never more than SOAK_MAX_QUEUE (default 25) messages waiting;
- every event posted is processed, each within 10 s of being received;
- the report rollups are never more than 120 s old (from the start, so a first rollup
  that never comes fails too).
It prints the figures and exits 1 on a failed check. Everything it started is killed at
the end, also on failure or Ctrl-C.
"""

import contextlib
import datetime as dt
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SECONDS = int(os.environ.get("SOAK_SECONDS", "300"))
RATE = float(os.environ.get("SOAK_RATE", "5"))
MAX_QUEUE = int(os.environ.get("SOAK_MAX_QUEUE", "25"))
EVENT_WITHIN = 10.0
ROLLUP_WITHIN = 120.0
SAMPLE_EVERY = 5.0
SENDERS = 4
NETWORK = "eip155:8453"
PAID = "https://soak.example.com/v1/quote"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive connection to the server; a new one after any error."""

    def __init__(self, port: int, key: str = ""):
        self.port, self.key, self.conn = port, key, None

    def call(self, method: str, path: str, body=None) -> tuple[int, dict | str]:
        headers = {"Accept": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            raise
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode(errors="replace")


class Soak:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="adnet-soak."))
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.env.update(
            ADNET_VAR_DIR=str(self.tmp), HOST="127.0.0.1", PORT=str(self.port), PYTHONUNBUFFERED="1"
        )
        self.server: subprocess.Popen | None = None
        self.failures: list[str] = []
        self.errors = 0
        self.matched = 0
        self.event_ids: list[str] = []
        self.lock = threading.Lock()
        self.missed_samples = 0

    # --- processes ---------------------------------------------------------------------------

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.facilitator_key = json.loads(
            self.manage("seeddemo", "--json", "--base-url", f"http://127.0.0.1:{self.port}")
        )["apiKey"]
        self.operator_key = json.loads(self.manage("createapikey", "--operator", "soak", "--json"))[
            "apiKey"
        ]
        log = (self.tmp / "serve.log").open("wb")
        # Its own session, so that the whole process group (uWSGI, worker, loops) can go.
        self.server = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.server.poll() is not None:
                raise SystemExit(f"scripts/serve exited:\n{self.log_tail()}")
            try:
                if Client(self.port).call("GET", "/v1/ping")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not answer within 120 s:\n{self.log_tail()}")
            time.sleep(0.5)
        self.started = time.monotonic()

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.server.wait(timeout=30)
        if self.server is not None:
            # Whatever outlived scripts/serve's own cleanup.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGKILL)

    def log_tail(self) -> str:
        """The end of what scripts/serve printed and of each process's log (under log/)."""
        tails = []
        for path in [self.tmp / "serve.log", *sorted((self.tmp / "log").glob("*.log"))]:
            try:
                tails.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
            except FileNotFoundError:
                continue
        return "\n".join(tails)

    # --- traffic -----------------------------------------------------------------------------

    def campaign(self) -> None:
        """A campaign whose budget outlasts any soak, so that every match can place."""
        client = Client(self.port, self.operator_key)
        status, advertiser = client.call(
            "POST",
            "/v1/advertisers",
            {"name": "Soak", "wallet_address": "0x" + "5" * 40, "network": NETWORK},
        )
        assert status == 201, advertiser
        status, campaign = client.call(
            "POST",
            "/v1/campaigns",
            {
                "advertiser_id": advertiser["id"],
                "name": "Soak",
                "budget_total": "1000000000000",
                "budget_daily": "100000000000",
                "max_bid_amount": "1000",
                "bid_strategy": "cpm",
                "pacing": "asap",
                "frequency_cap": 1000,
                "schedule_start": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(),
                "rec_resource_url": "https://soak.example.net/v1/forecast",
                "rec_description": "Forecasts",
                "rec_sponsor_name": "Soak",
                "target_url_patterns": ["https://soak.example.com/*"],
            },
        )
        assert status == 201, campaign
        status, body = client.call("POST", f"/v1/campaigns/{campaign['id']}/activate")
        assert status == 200, body

    def drive(self, until: float) -> None:
        """RATE settlements a second on a fixed clock, each a match and then its event, sent
        by a few clients so that one slow answer does not hold up the next settlement."""
        ticks: queue.Queue = queue.Queue()
        senders = [
            threading.Thread(target=self.send, args=(ticks,), daemon=True) for _ in range(SENDERS)
        ]
        for sender in senders:
            sender.start()
        n = 0
        while True:
            due = self.started + n / RATE
            if due >= until:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            ticks.put(n)
            n += 1
        for _ in senders:
            ticks.put(None)
        for sender in senders:
            sender.join()

    def send(self, ticks: queue.Queue) -> None:
        client = Client(self.port, self.facilitator_key)
        while ticks.get() is not None:
            payer = "0x" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
            tx_hash = "0x" + uuid.uuid4().hex + uuid.uuid4().hex
            try:
                status, answer = client.call(
                    "POST",
                    "/v1/match",
                    {
                        "resourceUrl": PAID,
                        "network": NETWORK,
                        "payerWallet": payer,
                        "settledAmount": "10000",
                        "txHash": tx_hash,
                    },
                )
                if status != 200:
                    self.count("errors")
                    continue
                event = {
                    "txHash": tx_hash,
                    "network": NETWORK,
                    "resource": {"url": PAID},
                    "payer": payer,
                    "settledAmount": "10000",
                    "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                }
                if answer.get("matched"):
                    self.count("matched")
                    event["campaignId"] = answer["campaignId"]
                    event["impressionToken"] = answer["impressionToken"]
                status, accepted = client.call("POST", "/v1/events", event)
                if status != 202:
                    self.count("errors")
                    continue
                with self.lock:
                    self.event_ids.append(accepted["eventId"])
            except (OSError, http.client.HTTPException):
                self.count("errors")

    def count(self, what: str) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)

    # --- measurements ------------------------------------------------------------------------

    def queue_depth(self) -> int:
        return sum(1 for p in (self.tmp / "broker" / "queue").iterdir() if p.suffix == ".msg")

    def rollup_age(self) -> float:
        """Seconds the rollups are behind; since the start while there is none yet."""
        _status, health = Client(self.port).call("GET", "/healthz")
        parts = health.get("parts", {}) if isinstance(health, dict) else {}
        lag = parts.get("rollups", {}).get("lag_seconds")
        return float(lag) if lag is not None else time.monotonic() - self.started

    def loop_ages(self) -> dict[str, float]:
        _, text = Client(self.port).call("GET", "/metrics")
        now = time.time()
        found = re.findall(
            r'^adnet_loop_last_success_timestamp_seconds\{loop="([^"]+)"\} (\S+)$', text, re.M
        )
        return {name: now - float(value) for name, value in found}

    def events(self) -> tuple[dict[str, int], list[float]]:
        """Events by status, and the seconds each processed one took from received."""
        db = sqlite3.connect(f"file:{self.tmp / 'adnet.sqlite3'}?mode=ro", uri=True, timeout=30)
        try:
            rows = db.execute(
                "SELECT status, received_at, processed_at FROM events_settlementevent"
            ).fetchall()
        finally:
            db.close()
        counts: dict[str, int] = {}
        latencies = []
        for status, received, processed in rows:
            counts[status] = counts.get(status, 0) + 1
            if processed:
                took = dt.datetime.fromisoformat(processed) - dt.datetime.fromisoformat(received)
                latencies.append(took.total_seconds())
        return counts, latencies

    def run(self) -> int:
        self.start()
        self.campaign()
        print(f"soak: embedded default in {self.tmp}, {SECONDS} s at {RATE:g} matches and events/s")
        until = self.started + SECONDS
        driver = threading.Thread(target=self.drive, args=(until,), daemon=True)
        driver.start()
        depths, ages, stale = [], [], {}
        while driver.is_alive():
            time.sleep(SAMPLE_EVERY)
            if self.server.poll() is not None:
                self.failures.append(f"scripts/serve exited:\n{self.log_tail()}")
                return self.report(depths, ages, stale)
            depths.append(self.queue_depth())
            try:
                ages.append(self.rollup_age())
                for name, age in self.loop_ages().items():
                    stale[name] = max(stale.get(name, 0.0), age)
            except (OSError, http.client.HTTPException):
                # The server too busy to answer within 10 s: counted, not fatal.
                self.count("missed_samples")
            elapsed = time.monotonic() - self.started
            if len(depths) % 12 == 0 and ages:
                print(
                    f"  {elapsed:5.0f} s: queue {depths[-1]}, rollup age {ages[-1]:.0f} s, "
                    f"events posted {len(self.event_ids)}"
                )
        # The last events get their 10 s, and a little for the loops' own pace.
        deadline = time.monotonic() + EVENT_WITHIN + 5
        while time.monotonic() < deadline:
            _counts, latencies = self.events()
            if len(latencies) >= len(self.event_ids):
                break
            time.sleep(1)
        return self.report(depths, ages, stale)

    def report(self, depths: list[int], ages: list[float], stale: dict[str, float]) -> int:
        counts, latencies = self.events()
        posted = len(self.event_ids)
        latencies.sort()
        late = sum(1 for took in latencies if took > EVENT_WITHIN)
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else 0.0
        print(f"soak: {SECONDS} s, {posted} events posted, {self.matched} matches placed")
        print(f"  broker queue: max {max(depths, default=0)}, last {depths[-1] if depths else 0}")
        print(
            f"  event latency (received to processed): max {latencies[-1] if latencies else 0:.1f}"
            f" s, p99 {p99:.1f} s; over {EVENT_WITHIN:.0f} s: {late}; inbox by status {counts}"
        )
        missed = self.missed_samples
        print(f"  rollup age: max {max(ages, default=0):.0f} s; samples missed {missed}")
        print(
            "  loops, longest since last success: "
            + ", ".join(f"{name} {age:.1f} s" for name, age in sorted(stale.items()))
        )
        if self.errors:
            self.failures.append(f"{self.errors} requests failed or were refused")
        if max(depths, default=0) > MAX_QUEUE:
            self.failures.append(f"the broker queue reached {max(depths)} (> {MAX_QUEUE})")
        if len(latencies) < posted:
            self.failures.append(f"{posted - len(latencies)} of {posted} events not processed")
        if late:
            self.failures.append(f"{late} events took more than {EVENT_WITHIN:.0f} s")
        if max(ages, default=0) > ROLLUP_WITHIN:
            self.failures.append(f"rollups were {max(ages):.0f} s old (> {ROLLUP_WITHIN:.0f} s)")
        for failure in self.failures:
            print(f"soak FAILED: {failure}")
        if self.failures:
            print(f"----- scripts/serve, last lines -----\n{self.log_tail()}")
        return 1 if self.failures else 0


def main() -> int:
    soak = Soak()
    # Ctrl-C or a CI timeout's SIGTERM still runs the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return soak.run()
    finally:
        soak.stop()
        shutil.rmtree(soak.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
