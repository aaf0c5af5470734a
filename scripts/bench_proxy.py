#!/usr/bin/env python3
"""What the reverse proxy costs: /v1/match under wrk straight to uWSGI and through nginx.

Seeds a fresh database as scripts/bench.py does (its functions, its wrk script), starts the
production server (uWSGI with adnet/uwsgi.ini), a Celery worker and nginx with
deploy/nginx.conf (tests/support/proxy.py: a self-signed certificate, the current user),
then runs wrk for --seconds at --connections against each target in turn, --rounds times:
uWSGI itself, nginx over TLS (production's path) and nginx over plain HTTP (to separate
TLS from proxying). Bounded in time (about rounds x 3 x seconds plus the start), 127.0.0.1
only. Needs DATABASE_URL (PostgreSQL), REDIS_URL, wrk and /usr/sbin/nginx.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench

sys.path.insert(0, str(bench.ROOT))
from tests.support import proxy  # the repository root is on the path only now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 4))
    )
    parser.add_argument("--out", default=str(bench.ROOT / "var" / "bench-proxy.json"))
    args = parser.parse_args()

    for tool in ("wrk", proxy.NGINX):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (apt-get install -y wrk nginx)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")
    from django.conf import settings  # the body limits nginx is given, as the app has them

    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3")
    print(f"machine: 10M-addition Python loop {bench.cpu_reference():.2f} s", flush=True)
    env, key = bench.seed(admin_url, redis_url, "adnet_bench_proxy", args.campaigns)
    logs = Path(tempfile.mkdtemp(prefix="adnet-bench-proxy-"))
    metrics_dir = tempfile.mkdtemp(prefix="adnet-bench-metrics-")
    port = bench.free_port()
    web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": metrics_dir, "BEHIND_PROXY": "1"}
    web = bench.start_web(bench.server_command("uwsgi", port, args.web_workers), web_env, logs)
    worker = bench.start_worker(env, logs)
    front = None
    results: list[dict] = []
    try:
        bench.wait_http(f"http://127.0.0.1:{port}/v1/ping", time.monotonic() + 60)
        front = proxy.start(
            logs,
            port,
            max_body=settings.API_MAX_BODY_BYTES,
            max_batch_body=settings.API_MAX_BATCH_BODY_BYTES,
        )
        targets = {
            "uwsgi": f"http://127.0.0.1:{port}",
            "nginx-tls": f"https://127.0.0.1:{front.https_port}",
            "nginx-http": f"http://127.0.0.1:{front.http_port}",
        }
        script = bench.LUA_MATCH.replace("__KEY__", key).replace("__RESOURCE__", bench.RESOURCE)
        for base in targets.values():  # imports, connections, snapshots, TLS sessions
            bench.run_wrk(base, script, args.connections, 2)
        for round_ in range(1, args.rounds + 1):
            for name, base in targets.items():
                bench.wait_idle(env["DATABASE_URL"], redis_url, time.monotonic() + 120)
                result = bench.run_wrk(base, script, args.connections, args.seconds)
                result.update(target=name, round=round_, connections=args.connections)
                results.append(result)
                print(
                    f"round {round_} {name:<10} {result['rps']:>8.1f} req/s  "
                    f"p50 {result['p50_answered_ms']:>7.2f} ms  "
                    f"p99 {result['p99_answered_ms']:>7.2f} ms  errors {result['errors']}",
                    flush=True,
                )
    finally:
        processes = [web, worker] + ([front.process.popen] if front else [])
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(metrics_dir, ignore_errors=True)

    print(f"\n| target | round | req/s | p50 ms | p99 ms | errors |  ({args.connections} conns)")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['target']} | {r['round']} | {r['rps']:.0f} | {r['p50_answered_ms']:.2f} "
            f"| {r['p99_answered_ms']:.2f} | {r['errors']} |"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
