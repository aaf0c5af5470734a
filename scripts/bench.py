#!/usr/bin/env python3
"""`make bench`: the real server (uWSGI, PostgreSQL, Redis, a Celery worker) under wrk.

For each campaign count it creates a fresh database, seeds it, starts the production
server (uWSGI with adnet/uwsgi.ini; `--server gunicorn` or `granian` for the comparisons
in docs/benchmarks.md), and drives
/v1/ping (the framework's ceiling), /v1/match and /v1/events with 1 and 16 connections
for a bounded time each. It prints throughput and latency percentiles and
fails if any campaign was committed past its budget. Targets 127.0.0.1 only.

Latency is printed twice: p50 and p99 of the requests as they were answered, and the p99
wrk itself reports, which adds requests a fixed-rate client would have sent while a slow
one was out (see LUA_REPORT).
"""

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
RESOURCE = "https://api.bench.example.com/v1/quote"

# wrk's own percentiles (`latency:percentile`) come from a histogram it has already
# "corrected for coordinated omission" (stats_correct in wrk 4): for every request slower than
# twice the mean interval between one connection's requests, it adds the requests a
# fixed-rate client would have sent meanwhile, each as slow as its wait. At one connection
# that interval is about half a millisecond, so a few requests of 5-40 ms add hundreds of
# such samples above 1 ms. The script also prints the histogram itself (value in us, count),
# from which `as_answered` takes the correction out again: both are reported.
LUA_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  local histogram = {}
  for i = 1, #latency do
    local value, count = latency(i)
    histogram[#histogram + 1] = string.format("%d,%d", value, count)
  end
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "duration_us": %d, "errors": %d, '
    .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "histogram": [',
    summary.requests, summary.duration / 1e6, summary.duration, errors,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(table.concat(histogram, ","), "]}\\n")
end
"""


def as_answered(histogram: dict[int, int], duration_us: int, requests: int, connections: int):
    """wrk's latency histogram (microseconds: count) with its coordinated-omission
    correction taken out: the requests as they were answered.

    wrk adds, for each recorded value n >= 2E (E = duration_us // (requests // connections),
    in whole microseconds), one sample at each of n - E, n - 2E, ... while above E. So from
    the top down, a value v > E holds its own count plus the counts of v + E, v + 2E, ...:
    subtracting those, per residue of v modulo E, gives back what was recorded."""
    per_connection = requests // connections
    if per_connection == 0:
        return dict(histogram)
    interval = duration_us // per_connection
    answered: dict[int, int] = {}
    above: dict[int, int] = {}  # by value % interval: recorded counts at values >= 2E seen
    for value in sorted(histogram, reverse=True):
        count = histogram[value]
        if value > interval:
            count -= above.get(value % interval, 0)
        if count < 0:
            raise ValueError(f"not a histogram wrk corrected with interval {interval} us")
        if count:
            answered[value] = count
        if value >= 2 * interval:
            above[value % interval] = above.get(value % interval, 0) + count
    return answered


def percentile(histogram: dict[int, int], p: float) -> int:
    """The p-th percentile of a histogram (value: count), by wrk's rule: the smallest value
    whose running count reaches round(p / 100 * total + 0.5)."""
    total = sum(histogram.values())
    rank = math.floor(p / 100 * total + 0.5 + 0.5)  # C's round() of a positive number
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return 0


LUA_MATCH = """
local counter = 0
local tid = 0
local threads = 0
setup = function(thread) thread:set("tid", threads); threads = threads + 1 end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer __KEY__"
request = function()
  counter = counter + 1
  local payer = string.format("0x%08x%032x", tid, counter)
  local body = '{"resourceUrl": "__RESOURCE__", "network": "eip155:8453", '
    .. '"payerWallet": "' .. payer .. '", "settledAmount": "10000"}'
  return wrk.format(nil, "/v1/match", nil, body)
end
"""

LUA_EVENTS = """
local counter = 0
local tid = 0
local threads = 0
setup = function(thread) thread:set("tid", threads); threads = threads + 1 end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer __KEY__"
request = function()
  counter = counter + 1
  local tx = string.format("0x%08x%08x%048x", __RUN__, tid, counter)
  local body = '{"txHash": "' .. tx .. '", "network": "eip155:8453", '
    .. '"resource": {"url": "__RESOURCE__"}, '
    .. '"payer": "0x1111111111111111111111111111111111111111", "settledAmount": "10000", '
    .. '"timestamp": "2026-01-01T00:00:00Z"}'
  return wrk.format(nil, "/v1/events", nil, body)
end
"""


def cpu_reference() -> float:
    """Seconds this process takes for ten million additions in a Python loop: the same
    machine kind has been seen to differ by two times between sessions and within one,
    so each run prints it beside its figures (docs/benchmarks.md)."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def count_overspent(database_url: str) -> int:
    """Campaigns committed past their total or today's daily budget: by their counters, and
    by the ledger itself (charges plus the holds of placements written so far)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM campaigns_campaign WHERE spent_millis + held_millis > "
            "budget_total * 1000 OR day_spent_millis + day_held_millis > budget_daily * 1000"
        ).fetchone()
        ledger = conn.execute(
            "SELECT count(*) FROM campaigns_campaign c WHERE "
            "(SELECT coalesce(sum(amount_millis), 0) FROM billing_charge b "
            " WHERE b.campaign_id = c.id) + "
            "(SELECT coalesce(sum(hold_millis), 0) FROM campaigns_placement p "
            " WHERE p.campaign_id = c.id) > c.budget_total * 1000"
        ).fetchone()
    return int(row[0]) + int(ledger[0])


def wait_journal_drained(url: str, deadline: float) -> float:
    """Seconds until the worker has written every match record to PostgreSQL."""
    import redis

    client = redis.Redis.from_url(url)
    started = time.monotonic()
    try:
        while client.xlen("adnet:journal") and time.monotonic() < deadline:
            time.sleep(0.2)
        if client.xlen("adnet:journal"):
            raise SystemExit("the match journal was not drained in time")
    finally:
        client.close()
    return time.monotonic() - started


def wait_idle(database_url: str, redis_url: str, deadline: float) -> float:
    """Seconds until the worker has caught up with what earlier stages left it (the match
    journal, the event inbox, attribution), so no stage pays for the one before."""
    import psycopg
    import redis

    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                busy = (
                    client.xlen("adnet:journal")
                    or conn.execute(
                        "SELECT EXISTS (SELECT 1 FROM events_settlementevent WHERE status IN "
                        "('pending', 'processing')) OR EXISTS (SELECT 1 FROM "
                        "campaigns_matchrequest WHERE NOT attributed)"
                    ).fetchone()[0]
                )
                if not busy:
                    break
                time.sleep(0.25)
    finally:
        client.close()
    return time.monotonic() - started


def flush_redis(url: str) -> None:
    """The benchmark's own Redis database starts empty (no grants or journal of a past run)."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer {url}")


def run_wrk(base: str, script: str, connections: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script + LUA_REPORT)
    threads = max(1, min(connections, 2))
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "5s",
            "-s",
            handle.name,
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(handle.name)
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / result["seconds"]
    flat = result.pop("histogram")
    recorded = as_answered(
        dict(zip(flat[::2], flat[1::2], strict=True)),
        result["duration_us"],
        result["requests"],
        connections,
    )
    # wrk's own figures (p50_ms, p90_ms, p99_ms) are kept as wrk prints them, with its
    # correction; the requests as answered are the *_answered_ms ones.
    for p in (50, 90, 99):
        result[f"p{p}_answered_ms"] = percentile(recorded, p) / 1000
    return result


def server_command(server: str, port: int, workers: int) -> list[str]:
    if server == "uwsgi":
        # The production configuration (adnet/uwsgi.ini), without the per-request log lines.
        return [
            str(BIN / "uwsgi"),
            "--ini",
            str(ROOT / "adnet" / "uwsgi.ini"),
            "--http-socket",
            f"127.0.0.1:{port}",
            "--processes",
            str(workers),
            "--disable-logging",
        ]
    if server == "granian":
        return [
            str(BIN / "granian"),
            "--interface",
            "wsgi",
            "adnet.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-ws",
            "--log-level",
            "warning",
        ]
    return [
        str(BIN / "gunicorn"),
        "adnet.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--log-level",
        "warning",
    ]


def seed(admin_url: str, redis_url: str, name: str, campaigns: int) -> tuple[dict, str]:
    """A fresh database `name` with `campaigns` active campaigns and an empty Redis
    database: the environment to run the server against them, and a facilitator's key."""
    recreate_database(with_database(admin_url, "postgres"), name)
    env = {
        **os.environ,
        "DATABASE_URL": with_database(admin_url, name),
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        # One key drives every run: the limiter still counts (its cost is measured), but
        # must not turn the measurement into a measurement of 429s.
        "RATE_LIMIT_FACILITATOR": "1000000000/m",
    }
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [PY, "scripts/bench_seed.py", "--campaigns", str(campaigns)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    flush_redis(redis_url)
    return env, json.loads(seeded.stdout.strip().splitlines()[-1])["apiKey"]


def start_web(command: list[str], env: dict, logs: Path) -> subprocess.Popen:
    """The server, in a session of its own (stopped by its process group), logging to
    `logs`; the log files stay open for as long as the processes run."""
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=open(logs / "web.log", "w"),
        stderr=subprocess.STDOUT,
    )


def start_worker(env: dict, logs: Path) -> subprocess.Popen:
    """The Celery worker with beat, as scripts/serve runs it (the events' tasks, beat's
    minute-scale housekeeping)."""
    return subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "adnet",
            "worker",
            "--beat",
            f"--schedule={logs / 'beat-schedule'}",
            "--concurrency=1",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=open(logs / "worker.log", "w"),
        stderr=subprocess.STDOUT,
    )


def start_loops(env: dict, logs: Path) -> subprocess.Popen:
    """The per-second loops beside the worker, as scripts/serve runs them: the journal drain,
    grant top-ups, attribution (adnet/loops.py)."""
    return subprocess.Popen(
        [str(BIN / "python"), "manage.py", "runloops"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=open(logs / "loops.log", "w"),
        stderr=subprocess.STDOUT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", default="1000,10000")
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 4))
    )
    parser.add_argument("--server", choices=["uwsgi", "gunicorn", "granian"], default="uwsgi")
    parser.add_argument("--endpoints", default="ping,match,events")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench-results.json"))
    args = parser.parse_args()

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3")
    results: list[dict] = []
    matching_steps: list[dict] = []
    machines: list[dict] = []  # the CPU reference around each campaign count
    run_id = int(time.time()) % 100_000_000

    for count in [int(c) for c in args.campaigns.split(",")]:
        reference = cpu_reference()
        print(
            f"campaigns={count:>6} machine: 10M-addition Python loop {reference:.2f} s", flush=True
        )
        machine = {"endpoint": "cpu-reference", "campaigns": count, "seconds": round(reference, 3)}
        machines.append(machine)
        env, key = seed(admin_url, redis_url, f"adnet_bench_{count}", count)
        micro = subprocess.run(
            [PY, "scripts/bench_matching.py", "--seconds", "3"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        step = json.loads(micro.stdout.strip().splitlines()[-1])
        step.update(endpoint="matching-step", campaigns=count)
        matching_steps.append(step)
        print(
            f"campaigns={count:>6} matching step (index + ranking): "
            f"{step['us_per_request']:.1f} us/request "
            f"({step['us_per_request_new_url']:.1f} us for a URL not seen before), "
            f"{step['eligible_per_request']} eligible, "
            f"snapshot built in {step['snapshot_build_ms']:.0f} ms",
            flush=True,
        )
        port = free_port()
        logs = Path(tempfile.mkdtemp(prefix="adnet-bench-"))
        # Metrics in multiprocess mode, as scripts/serve runs them: a fresh directory.
        metrics_dir = tempfile.mkdtemp(prefix="adnet-bench-metrics-")
        web = start_web(
            server_command(args.server, port, args.web_workers),
            {**env, "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
            logs,
        )
        worker = start_worker(env, logs)
        loops = start_loops(env, logs)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(f"{base}/v1/ping", time.monotonic() + 60)
            scripts = {
                "ping": "",
                "match": LUA_MATCH.replace("__KEY__", key).replace("__RESOURCE__", RESOURCE),
                "events": LUA_EVENTS.replace("__KEY__", key)
                .replace("__RESOURCE__", RESOURCE)
                .replace("__RUN__", str(run_id + count)),
            }
            scripts = {k: v for k, v in scripts.items() if k in args.endpoints.split(",")}
            # Warm every worker process up (imports, connections, snapshots) before measuring.
            for name, script in scripts.items():
                run_wrk(base + ("/v1/ping" if name == "ping" else ""), script, 16, 2)
            for connections in [int(c) for c in args.connections.split(",")]:
                for name, script in scripts.items():
                    path_base = base + ("/v1/ping" if name == "ping" else "")
                    idle = wait_idle(env["DATABASE_URL"], redis_url, time.monotonic() + 180)
                    result = run_wrk(path_base, script, connections, args.seconds)
                    result["worker_catch_up_s"] = round(idle, 1)
                    result.update(
                        endpoint=name,
                        campaigns=count,
                        connections=connections,
                        server=args.server,
                    )
                    results.append(result)
                    print(
                        f"{args.server} campaigns={count:>6} conns={connections:>3} {name:<7} "
                        f"{result['rps']:>9.1f} req/s  p50 {result['p50_answered_ms']:>7.2f} ms  "
                        f"p99 {result['p99_answered_ms']:>7.2f} ms  "
                        f"(wrk's p99 {result['p99_ms']:>7.2f} ms)  errors {result['errors']}  "
                        f"(worker caught up in {idle:.1f} s before)",
                        flush=True,
                    )
            waited = wait_journal_drained(redis_url, time.monotonic() + 120)
            print(f"campaigns={count}: match journal drained {waited:.1f} s after the last run")
            overspent = count_overspent(env["DATABASE_URL"])
            print(f"campaigns={count}: campaigns committed past their budget: {overspent}")
            after = cpu_reference()
            print(f"campaigns={count}: machine after the runs: 10M-addition loop {after:.2f} s")
            machine["seconds_after"] = round(after, 3)
            if overspent:
                return 1
        finally:
            for proc in (web, worker, loops):
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(proc.pid, signal.SIGKILL)
            shutil.rmtree(metrics_dir, ignore_errors=True)

    print(
        "\n| campaigns | connections | endpoint | req/s | p50 ms | p99 ms "
        "| wrk's p99 ms (corrected) | vs ping |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        ping = next(
            p
            for p in results
            if p["endpoint"] == "ping"
            and p["campaigns"] == r["campaigns"]
            and p["connections"] == r["connections"]
        )
        print(
            f"| {r['campaigns']} | {r['connections']} | {r['endpoint']} | {r['rps']:.0f} | "
            f"{r['p50_answered_ms']:.2f} | {r['p99_answered_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{100 * r['rps'] / ping['rps']:.0f}% |"
        )
    print(
        "\n| campaigns | matching step (index + ranking) | the same, URL not seen before "
        "| eligible | snapshot build |"
    )
    print("|---:|---:|---:|---:|---:|")
    for step in matching_steps:
        print(
            f"| {step['campaigns']} | {step['us_per_request']:.1f} us | "
            f"{step['us_per_request_new_url']:.1f} us | "
            f"{step['eligible_per_request']} | {step['snapshot_build_ms']:.0f} ms |"
        )
    print("\n| campaigns | 10M-addition Python loop before, after (s) |")
    print("|---:|---|")
    for machine in machines:
        after = machine.get("seconds_after", "-")
        print(f"| {machine['campaigns']} | {machine['seconds']}, {after} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results + matching_steps + machines, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
