#!/usr/bin/env python3
"""What the Celery worker costs /v1/match's latency: the same match run with the worker
running, stopped (SIGSTOP: the journal waits in Redis), or in a CPU cgroup marked idle.

Starts the server and the worker as scripts/bench.py does (fresh database, --campaigns
campaigns, uWSGI with 4 workers, the worker with beat), warms up, then repeats, --pairs
times, one wrk run of --seconds per condition of --conditions, waiting before each for the
worker to catch up:

- ping: /v1/ping (the framework's own figure), worker running;
- run: /v1/match, worker running;
- stop: /v1/match, worker stopped for the run and resumed after;
- idle: /v1/match, the worker's processes in a cgroup (v1 `cpu`) with cpu.idle=1;
- idle-pg: the same with PostgreSQL's processes too (new backends follow the postmaster).

Prints each run's figures and the CPU each group of processes used (from /proc; backends
that exit during the run are not counted). With --client python, one connection is driven
by a plain Python loop instead of wrk (each request timed on its own; its own cost, about
0.2 ms, is in every figure), which also says when in the wall-clock second the slow
requests (over 2.5 times the median) started, in tenths of a second. The idle conditions
need root and a cgroup v1 `cpu` hierarchy at /sys/fs/cgroup/cpu; every process is moved
back after the run. Targets 127.0.0.1 only.
"""

import argparse
import collections
import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import (  # scripts/bench.py, beside this file
    LUA_MATCH,
    RESOURCE,
    free_port,
    run_wrk,
    seed,
    server_command,
    start_web,
    start_worker,
    wait_http,
    wait_idle,
)

CGROUP = Path("/sys/fs/cgroup/cpu")
HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> collections.Counter:
    """CPU seconds used so far, by group of processes."""
    used: collections.Counter = collections.Counter()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        for group, found in (
            ("celery", "celery" in command),
            ("uwsgi", "uwsgi" in command),
            ("postgres", name == "postgres" or command.startswith("postgres")),
            ("redis", name.startswith("redis")),
            ("wrk", name == "wrk"),
            ("other", True),
        ):
            if found:
                used[group] += (int(fields[11]) + int(fields[12])) / HZ
                break
    return used


def pids(pattern: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()


def move(pid_list: list[str], group: Path) -> None:
    for pid in pid_list:
        with contextlib.suppress(OSError):  # gone, or a kernel thread
            (group / "cgroup.procs").write_text(pid)


def python_client(port: int, key: str, endpoint: str, seconds: int) -> dict:
    """One connection's requests, one after the other, for `seconds`: wrk's figures, and
    how the slow ones fall across the tenths of the wall-clock second."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    timed: list[tuple[float, float]] = []
    run = int(time.time()) & 0xFFFFFFFF  # a distinct payer per request, in every run
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        body = json.dumps(
            {
                "resourceUrl": RESOURCE,
                "network": "eip155:8453",
                "payerWallet": f"0x{run:08x}{len(timed):032x}",
                "settledAmount": "10000",
            }
        )
        at, began = time.time(), time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port)  # the server closes each one
        if endpoint == "ping":
            conn.request("GET", "/v1/ping")
        else:
            conn.request("POST", "/v1/match", body, headers)
        conn.getresponse().read()
        conn.close()
        timed.append((at, (time.perf_counter() - began) * 1000))
    latencies = sorted(ms for _, ms in timed)
    median = latencies[len(latencies) // 2]
    tenths = collections.Counter(int(at % 1 * 10) for at, ms in timed if ms > 2.5 * median)
    return {
        "rps": len(timed) / (time.monotonic() - started),
        "p50_ms": median,
        "p90_ms": latencies[int(len(latencies) * 0.9)],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "max_ms": latencies[-1],
        "slow_by_tenth": [tenths[i] for i in range(10)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--conditions", default="ping,run,stop")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk")
    args = parser.parse_args()
    if args.client == "python" and args.connections != 1:
        parser.error("--client python drives one connection")
    conditions = args.conditions.split(",")
    idle = CGROUP / "adnet-bench-idle"
    if any(c.startswith("idle") for c in conditions):
        idle.mkdir(exist_ok=True)
        (idle / "cpu.idle").write_text("1")

    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3")
    env, key = seed(admin_url, redis_url, "adnet_bench_worker", args.campaigns)
    logs = Path(tempfile.mkdtemp(prefix="adnet-bench-worker-"))
    port = free_port()
    metrics = tempfile.mkdtemp(prefix="adnet-bench-metrics-")
    web = start_web(
        server_command("uwsgi", port, 4), {**env, "PROMETHEUS_MULTIPROC_DIR": metrics}, logs
    )
    worker = start_worker(env, logs)
    base = f"http://127.0.0.1:{port}"
    match = LUA_MATCH.replace("__KEY__", key).replace("__RESOURCE__", RESOURCE)
    try:
        wait_http(f"{base}/v1/ping", time.monotonic() + 60)
        run_wrk(f"{base}/v1/ping", "", 16, 2)
        run_wrk(base, match, 16, 2)
        for _ in range(args.pairs):
            for condition in conditions:
                wait_idle(env["DATABASE_URL"], redis_url, time.monotonic() + 180)
                if condition == "stop":
                    os.killpg(worker.pid, signal.SIGSTOP)
                elif condition.startswith("idle"):
                    move(pids("celery" + ("|postgres" if condition == "idle-pg" else "")), idle)
                before, started = cpu_seconds(), time.monotonic()
                usage: dict = {}

                def sample(before=before, started=started, usage=usage) -> None:
                    time.sleep(args.seconds - 1)
                    after, spent = cpu_seconds(), time.monotonic() - started
                    usage.update(
                        {g: round(100 * (after[g] - before[g]) / spent) for g in sorted(after)}
                    )

                sampler = threading.Thread(target=sample)
                sampler.start()
                endpoint = "ping" if condition == "ping" else "match"
                if args.client == "python":
                    result = python_client(port, key, endpoint, args.seconds)
                elif endpoint == "ping":
                    result = run_wrk(f"{base}/v1/ping", "", args.connections, args.seconds)
                else:
                    result = run_wrk(base, match, args.connections, args.seconds)
                sampler.join()
                if condition == "stop":
                    os.killpg(worker.pid, signal.SIGCONT)
                elif condition.startswith("idle"):
                    move((idle / "cgroup.procs").read_text().split(), CGROUP)
                wrk = ""
                if "p99_answered_ms" in result:  # from wrk: the requests as answered, and its p99
                    wrk = f"(wrk's p99 {result['p99_ms']:.2f})  "
                    result |= {f"p{p}_ms": result[f"p{p}_answered_ms"] for p in (50, 90, 99)}
                print(
                    f"{condition:<8} conns={args.connections:>3} {result['rps']:>7.0f} req/s  "
                    f"p50 {result['p50_ms']:.2f}  p90 {result['p90_ms']:.2f}  "
                    f"p99 {result['p99_ms']:.2f}  {wrk}max {result['max_ms']:.1f} ms  CPU % "
                    + " ".join(f"{g} {n}" for g, n in usage.items())
                    + (
                        f"  slow by tenth {result['slow_by_tenth']}"
                        if "slow_by_tenth" in result
                        else ""
                    ),
                    flush=True,
                )
    finally:
        if idle.exists():
            move((idle / "cgroup.procs").read_text().split(), CGROUP)
        for proc in (web, worker):
            try:
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(metrics, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
