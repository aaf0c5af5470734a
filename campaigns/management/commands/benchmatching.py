"""`manage.py benchmatching`: the matching step alone, timed on the live campaigns.

Builds the catalog snapshot from the database (as a worker process does), then times
what a match does before its one Redis call: look the settlement's URL up in the index
and rank the candidates by expected value. Prints one JSON line.
"""

import json
import random
import time

from django.core.management.base import BaseCommand

from adnet.core import clock
from campaigns import catalog
from campaigns.management.commands.seedbench import BENCH_RESOURCE
from campaigns.matching import engine, patterns


class Command(BaseCommand):
    help = "Time index lookup plus ranking per request on the live campaigns."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=3.0)
        parser.add_argument("--url", default=BENCH_RESOURCE)

    def handle(self, *args, seconds: float, url: str, **options):
        now = clock.now()
        started = time.perf_counter()
        live = catalog.build(catalog.version(), now)
        build_ms = (time.perf_counter() - started) * 1000
        rng = random.Random(1)
        settlements = [
            engine.Settlement(
                resource_url=url,
                resource_key=patterns.resource_key(url),
                description="",
                network="eip155:8453",
                payer=f"0x{i:040x}",
                transport="http",
            )
            for i in range(1000)
        ]
        done, candidates, elapsed = 0, 0, 0.0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            for settlement in settlements:
                offers = live.rank(settlement, now, rng)
                candidates += len(offers)
            elapsed += time.perf_counter() - started
            done += len(settlements)
        self.stdout.write(
            json.dumps(
                {
                    "campaigns": len(live.rows),
                    "requests": done,
                    "us_per_request": round(elapsed / done * 1e6, 2),
                    "eligible_per_request": round(candidates / done, 1),
                    "snapshot_build_ms": round(build_ms, 1),
                }
            )
        )
