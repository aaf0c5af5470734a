#!/usr/bin/env python3
"""`make bench` (reports): a month of raw traffic generated in PostgreSQL, then the reports.

Creates a fresh database, generates --placements placements over the last --days UTC days
(default 30; with 1, all of them land today, up to now), plus a sixth as many unanswered
match requests, settlement events for delivered placements, conversions, charges and
invalid traffic, with INSERT ... SELECT generate_series; rebuilds the rollups of every
day, then starts the production server (uWSGI, DEBUG=0) and measures, as a signed-in staff
user: the overview page, the row report pages, and the CSV export of the period's
placements, sampling the web worker's resident memory while the export streams. Targets
127.0.0.1 only.
"""

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import server_command  # scripts/bench.py, beside this file

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PASSWORD = "bench-operator-password"  # noqa: S105 - a throwaway bench user's
NETWORKS = ["eip155:8453", "eip155:137", "eip155:84532", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"]
REASONS = [
    ("beacon", "duplicate_impression"),
    ("beacon", "forged_token"),
    ("event", "other_facilitator"),
    ("event", "expired_placement"),
    ("click", "duplicate_click"),
    ("conversion", "tx_hash_reused"),
]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- Data ----------------------------------------------------------------------------------


def seed_small_tables(campaigns: int, facilitators: int) -> tuple[list, list]:
    """Facilitators, advertisers and campaigns through the ORM (defaults stay the models')."""
    from django.contrib.auth import get_user_model

    from campaigns.models import Advertiser, Campaign
    from facilitators.models import Facilitator

    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    facs = Facilitator.objects.bulk_create(
        [Facilitator(name=f"bench-facilitator-{i}") for i in range(facilitators)]
    )
    advertisers = Advertiser.objects.bulk_create(
        [
            Advertiser(
                name=f"Bench advertiser {i}",
                wallet_address="0x" + f"{0xAD0000 + i:040x}",
                network=NETWORKS[0],
            )
            for i in range(max(1, campaigns // 10))
        ]
    )
    camps = Campaign.objects.bulk_create(
        [
            Campaign(
                advertiser=advertisers[i % len(advertisers)],
                name=f"Bench campaign {i:04d}",
                status=Campaign.Status.ACTIVE,
                bid_strategy="cpa" if i % 2 == 0 else "cpm",
                budget_total=10**12,
                budget_daily=10**11,
                max_bid_amount=4000,
                schedule_start=start,
                rec_resource_url=f"https://sponsor{i}.example.net/v1/tool",
                rec_description="Bench",
                rec_sponsor_name="Bench",
            )
            for i in range(campaigns)
        ]
    )
    get_user_model().objects.create_superuser("bench", password=PASSWORD)
    return [str(f.id) for f in facs], [str(c.id) for c in camps]


GENERATE = [
    (
        "match requests",
        """
        INSERT INTO campaigns_matchrequest (id, facilitator_id, received_at, resource_url,
            resource_description, network, payer, settled_amount, transport, tx_hash, matched,
            attributed)
        SELECT g, (%(facs)s::uuid[])[1 + g %% %(nfacs)s],
            %(start)s::timestamptz + (g - 1)::bigint * %(step)s * interval '1 microsecond',
            'https://api' || (g %% 97) || '.example.com/v1/quote', '',
            (%(networks)s::text[])[1 + (g / 7) %% 4],
            '0x' || lpad(to_hex(g), 40, '0'), 10000,
            (ARRAY['http','mcp','a2a'])[1 + g %% 3],
            '0x' || lpad(to_hex(g), 64, '0'), g %% 6 <> 0, true
        FROM generate_series(1, %(requests)s) AS g
        """,
    ),
    (
        "placements",
        """
        INSERT INTO campaigns_placement (id, campaign_id, facilitator_id, match_request_id,
            payer, network, transport, resource_url, conversion_resource, conversion_key,
            bid_strategy, billing_event, price_millis, hold_millis, hold_day, state,
            matched_at, expires_at, delivered_at, impression_at, clicked_at,
            attribution_deadline, release_at, original_tx_hash, billed_millis)
        SELECT gen_random_uuid(), (%(camps)s::uuid[])[1 + m.id %% %(ncamps)s], m.facilitator_id,
            m.id, m.payer, m.network, m.transport, m.resource_url,
            'https://sponsor.example.net/v1/tool', 'k',
            s.strategy, CASE s.strategy WHEN 'cpa' THEN 'conversion' ELSE 'impression' END,
            s.price, 0, (m.received_at AT TIME ZONE 'UTC')::date,
            CASE WHEN m.id %% 20 = 3 THEN 'converted' ELSE 'expired' END,
            m.received_at, m.received_at + interval '30 minutes',
            CASE WHEN m.id %% 5 <> 0 THEN m.received_at + interval '20 seconds' END,
            CASE WHEN m.id %% 10 < 6 THEN m.received_at + interval '40 seconds' END,
            CASE WHEN m.id %% 20 = 7 THEN m.received_at + interval '90 seconds' END,
            m.received_at + interval '30 minutes', m.received_at + interval '40 minutes',
            m.tx_hash,
            CASE WHEN s.strategy = 'cpa' AND m.id %% 20 = 3 THEN s.price
                 WHEN s.strategy = 'cpm' AND m.id %% 10 < 6 THEN s.price ELSE 0 END
        FROM campaigns_matchrequest m
        CROSS JOIN LATERAL (SELECT
            CASE WHEN (m.id %% %(ncamps)s) %% 2 = 0 THEN 'cpa' ELSE 'cpm' END AS strategy,
            CASE WHEN (m.id %% %(ncamps)s) %% 2 = 0 THEN 4000000 ELSE 4000 END AS price) s
        WHERE m.matched
        """,
    ),
    (
        "conversions",
        """
        INSERT INTO billing_conversion (id, placement_id, campaign_id, source, payer, network,
            resource_url, converted_at, match_request_id, converting_facilitator_id,
            original_tx_hash, conversion_tx_hash, status, unbilled_reason, created_at)
        SELECT gen_random_uuid(), p.id, p.campaign_id, 'server', p.payer, p.network,
            p.conversion_resource,
            p.matched_at + ((p.match_request_id %% 1700) + 60) * interval '1 second', NULL,
            p.facilitator_id, p.original_tx_hash,
            '0x' || lpad(to_hex(p.match_request_id + 100000000), 64, '0'),
            CASE p.bid_strategy WHEN 'cpa' THEN 'billed' ELSE 'not_billable' END, '',
            p.matched_at + ((p.match_request_id %% 1700) + 61) * interval '1 second'
        FROM campaigns_placement p WHERE p.state = 'converted'
        """,
    ),
    (
        "charges",
        """
        INSERT INTO billing_charge (placement_id, campaign_id, facilitator_id, kind,
            bid_strategy, amount_millis, unbilled_millis, unbilled_reason, day, evidence,
            created_at)
        SELECT p.id, p.campaign_id, p.facilitator_id,
            CASE p.bid_strategy WHEN 'cpa' THEN 'conversion' ELSE 'impression' END,
            p.bid_strategy, p.billed_millis, 0, '', p.hold_day, '{}'::jsonb,
            CASE p.bid_strategy WHEN 'cpa' THEN c.created_at ELSE p.impression_at END
        FROM campaigns_placement p LEFT JOIN billing_conversion c ON c.placement_id = p.id
        WHERE p.billed_millis > 0
        """,
    ),
    (
        "settlement events",
        """
        INSERT INTO events_settlementevent (id, facilitator_id, network, tx_hash, payer,
            resource_url, resource_description, resource_mime_type, settled_amount,
            campaign_ref, impression_token, occurred_at, received_at, body_digest, status,
            invalid_reason, placement_id, attempts, last_error, claim, lease_until, dispatches,
            dispatched_at, processed_at)
        SELECT gen_random_uuid(), p.facilitator_id, p.network, p.original_tx_hash, p.payer,
            p.resource_url, '', '', 10000, '', '', p.delivered_at, p.delivered_at, 'bench',
            'processed', '', p.id, 1, '', NULL, NULL, 1, p.delivered_at, p.delivered_at
        FROM campaigns_placement p WHERE p.delivered_at IS NOT NULL
        """,
    ),
    (
        "invalid traffic",
        """
        INSERT INTO billing_invalidtraffic (source, reason, occurred_at, placement_id,
            campaign_id, facilitator_id, source_ref, detail)
        SELECT (%(sources)s::text[])[1 + g %% 6], (%(reasons)s::text[])[1 + g %% 6],
            %(start)s::timestamptz + (g - 1)::bigint * %(istep)s * interval '1 microsecond', NULL,
            CASE WHEN g %% 6 <> 1 THEN (%(camps)s::uuid[])[1 + g %% %(ncamps)s] END,
            CASE WHEN g %% 6 <> 1 THEN (%(facs)s::uuid[])[1 + g %% %(nfacs)s] END,
            '', '{}'::jsonb
        FROM generate_series(1, %(invalid)s) AS g
        """,
    ),
]


def generate(args, facs: list, camps: list, start: dt.datetime, end: dt.datetime) -> dict:
    from django.db import connection

    requests = args.placements * 6 // 5  # one in six unanswered
    span_us = int((end - start).total_seconds() * 1_000_000)
    params = {
        "facs": facs,
        "nfacs": len(facs),
        "camps": camps,
        "ncamps": len(camps),
        "networks": NETWORKS,
        "start": start,
        "step": span_us // requests,
        "requests": requests,
        "invalid": args.invalid,
        "istep": span_us // max(1, args.invalid),
        "sources": [s for s, _ in REASONS],
        "reasons": [r for _, r in REASONS],
    }
    rows = {}
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        for name, sql in GENERATE:
            began = time.monotonic()
            cursor.execute(sql, params)
            rows[name] = cursor.rowcount
            print(
                f"  {name}: {cursor.rowcount:,} rows in {time.monotonic() - began:.1f} s",
                flush=True,
            )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('campaigns_matchrequest', 'id'), %s)",
            [requests],
        )
        cursor.execute("VACUUM ANALYZE")
    return rows


# --- Measuring -----------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.2)
    raise SystemExit("the web server started no worker")


class Session:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, headers=headers or {})  # noqa: S310
        return self.opener.open(request, timeout=600)

    def login(self) -> None:
        page = self.get("/admin/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {
                "username": "bench",
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/admin/reports/",
            }
        ).encode()
        request = urllib.request.Request(self.base + "/admin/login/", data=body)  # noqa: S310
        answer = self.opener.open(request, timeout=60)
        if "/admin/reports/" not in answer.geturl():
            raise SystemExit("could not sign in to the admin")


def time_page(session: Session, path: str, runs: int, headers: dict | None = None) -> dict:
    session.get(path, headers).read()  # warm up (imports, connection, plans)
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        with session.get(path, headers) as response:
            response.read()
            assert response.status == 200
        seconds.append(time.perf_counter() - began)
    return {
        "path": path,
        "runs": runs,
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def stream_export(session: Session, path: str, pid: int) -> dict:
    samples: list[int] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(rss_kib(pid))
            time.sleep(0.1)

    before = rss_kib(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    first_byte = None
    size = lines = 0
    with session.get(path) as response:
        while chunk := response.read(256 * 1024):
            if first_byte is None:
                first_byte = time.perf_counter() - began
            size += len(chunk)
            lines += chunk.count(b"\n")
            if lines and lines % 200_000 < chunk.count(b"\n"):
                print(
                    f"    ... {lines:,} lines, worker RSS {rss_kib(pid) / 1024:.0f} MiB", flush=True
                )
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    return {
        "path": path,
        "rows": lines - 1,
        "mib": round(size / 2**20, 1),
        "seconds": round(seconds, 1),
        "rows_per_s": round((lines - 1) / seconds),
        "first_byte_ms": round((first_byte or 0) * 1000, 1),
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_mib": round(max(samples, default=before) / 1024, 1),
        "rss_after_mib": round(rss_kib(pid) / 1024, 1),
        "rss_samples": len(samples),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--placements", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--facilitators", type=int, default=5)
    parser.add_argument("--invalid", type=int, default=30_000)
    parser.add_argument("--days", type=int, default=30, help="UTC days, the last one today")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database", default="adnet_bench_reports")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench-reports.json"))
    args = parser.parse_args()
    if args.days < 1:
        parser.error("--days must be at least 1")

    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    recreate_database(with_database(admin_url, "postgres"), args.database)
    env = {
        **os.environ,
        "DATABASE_URL": with_database(admin_url, args.database),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    subprocess.run(
        [str(BIN / "python"), "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")
    import django

    django.setup()
    from adnet.core import clock
    from facilitators.services import issue_operator_key
    from reports import services
    from reports.models import RollupState

    now = clock.now()
    today = clock.utc_day(now)
    first = today - dt.timedelta(days=args.days - 1)
    start = clock.day_bounds(first)[0]
    print(
        f"generating {args.placements:,} placements over {first} .. {now:%Y-%m-%d %H:%M} UTC",
        flush=True,
    )
    facs, camps = seed_small_tables(args.campaigns, args.facilitators)
    began = time.monotonic()
    rows = generate(args, facs, camps, start, now)
    results: dict = {"rows": rows, "generate_s": round(time.monotonic() - began, 1)}
    operator_key = issue_operator_key(name="bench").api_key

    print(f"rebuilding the rollups of {args.days} days", flush=True)
    began = time.monotonic()
    services.roll_up_range(start=first, end=today + dt.timedelta(days=1))
    results["rollup_all_days_s"] = round(time.monotonic() - began, 1)
    durations = sorted(RollupState.objects.values_list("duration_ms", flat=True))
    results["rollup_day_ms"] = {"median": statistics.median(durations), "max": durations[-1]}
    today_runs = []
    for _ in range(3):
        began = time.monotonic()
        services.roll_up_today()
        today_runs.append(time.monotonic() - began)
    results["roll_up_today_ms"] = round(statistics.median(today_runs) * 1000)
    if args.days > 1:  # the closed days; today is not reconciled
        began = time.monotonic()
        check = services.reconcile_rollups(days=args.days - 1)
        results["reconcile_closed_days_s"] = round(time.monotonic() - began, 1)
        results["reconcile_differences"] = len(check.differences)
    print(json.dumps(results, indent=2), flush=True)

    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="adnet-bench-reports-"))
    web = subprocess.Popen(
        # The production configuration, one worker; a month's CSV export may take minutes.
        [*server_command("uwsgi", port, 1), "--harakiri", "900"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=open(logs / "web.log", "w"),  # noqa: SIM115 - lives as long as the process
        stderr=subprocess.STDOUT,
    )
    try:
        session = Session(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                session.get("/v1/ping").read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        pid = worker_pid(web.pid)
        session.login()
        period = f"start={first}&end={today + dt.timedelta(days=1)}"
        bearer = {"Authorization": f"Bearer {operator_key}"}
        pages = [
            time_page(session, f"/admin/reports/?{period}", args.runs),
            time_page(session, f"/v1/reports/overview?{period}", args.runs, bearer),
            time_page(session, f"/admin/reports/facilitators/?{period}", args.runs),
            time_page(session, f"/admin/reports/invalid-traffic/?{period}", args.runs),
            time_page(session, f"/admin/reports/conversions/?{period}", args.runs),
            time_page(session, f"/admin/reports/placements/?{period}", args.runs),
        ]
        results["pages"] = pages
        for page in pages:
            print(
                f"  {page['path']:<70} p50 {page['p50_ms']:>7.1f} ms  "
                f"max {page['max_ms']:>7.1f} ms",
                flush=True,
            )
        print("streaming the period's placements as CSV", flush=True)
        results["exports"] = [
            stream_export(session, f"/admin/reports/conversions.csv?{period}", pid),
            stream_export(session, f"/admin/reports/placements.csv?{period}", pid),
        ]
        for export in results["exports"]:
            print(json.dumps(export), flush=True)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    overview = pages[0]
    print(
        f"\noverview p50 {overview['p50_ms']} ms (max {overview['max_ms']} ms); "
        f"placements CSV {results['exports'][1]['rows']:,} rows, worker RSS "
        f"{results['exports'][1]['rss_before_mib']} -> peak "
        f"{results['exports'][1]['rss_peak_mib']} MiB"
    )
    return 0 if overview["max_ms"] < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
