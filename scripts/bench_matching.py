#!/usr/bin/env python3
"""scripts/bench_matching.py: the matching step alone, timed on the live campaigns.

Builds the catalog snapshot from the database (as a worker process does), then times
what a match does before its one Redis call: look the settlement's URL up in the index
and rank the candidates by expected value. Two ways, half the time each: every request
for the same URL (as a paid API's settlements arrive, and as `make bench` drives the
server: the index answers from its memo), and every request for a URL the index has not
seen (a query string of its own: the index's full lookup). Prints one JSON line.
"""

import argparse
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")
import django

django.setup()

from adnet.core import clock  # noqa: E402
from campaigns import catalog  # noqa: E402
from campaigns.matching import engine, patterns  # noqa: E402

# The settlement the benchmark sends (scripts/bench_seed.py seeds campaigns that match it).
BENCH_RESOURCE = "https://api.bench.example.com/v1/quote"


def main(seconds: float, url: str) -> dict:
    now = clock.now()
    started = time.perf_counter()
    live = catalog.build(catalog.version(), now)
    build_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(1)
    key = patterns.resource_key(url)
    separator = "&" if "?" in url else "?"
    passes = itertools.count()

    def settlements(new_urls: bool) -> list[engine.Settlement]:
        n = next(passes)
        return [
            engine.Settlement(
                resource_url=f"{url}{separator}n={n}.{i}" if new_urls else url,
                resource_key=key,
                description="",
                network="eip155:8453",
                payer=f"0x{i:040x}",
                transport="http",
            )
            for i in range(1000)
        ]

    def timed(new_urls: bool) -> tuple[int, int, float]:
        done, candidates, elapsed = 0, 0, 0.0
        deadline = time.perf_counter() + seconds / 2
        while time.perf_counter() < deadline:
            batch = settlements(new_urls)
            started = time.perf_counter()
            for settlement in batch:
                candidates += len(live.rank(settlement, now, rng))
            elapsed += time.perf_counter() - started
            done += len(batch)
        return done, candidates, elapsed

    done, candidates, elapsed = timed(new_urls=False)
    new_done, _, new_elapsed = timed(new_urls=True)
    return {
        "campaigns": len(live.rows),
        "requests": done + new_done,
        "us_per_request": round(elapsed / done * 1e6, 2),
        "us_per_request_new_url": round(new_elapsed / new_done * 1e6, 2),
        "eligible_per_request": round(candidates / done, 1),
        "snapshot_build_ms": round(build_ms, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--url", default=BENCH_RESOURCE)
    args = parser.parse_args()
    print(json.dumps(main(args.seconds, args.url)))
