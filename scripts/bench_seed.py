#!/usr/bin/env python3
"""scripts/bench_seed.py --campaigns N: N active campaigns and a facilitator key to bench with."""

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")
import django

django.setup()

from django.db import transaction  # noqa: E402

from adnet.core import clock  # noqa: E402
from campaigns.models import Advertiser, Campaign  # noqa: E402
from facilitators.services import register_facilitator_with_key  # noqa: E402

# The settlement the benchmark sends; a handful of campaigns match it, the rest do not.
BENCH_RESOURCE = "https://api.bench.example.com/v1/quote"


@transaction.atomic
def seed(campaigns: int, matching: int) -> str:
    """Add the campaigns; the new facilitator key."""
    advertiser = Advertiser.objects.create(
        name="Bench advertiser", wallet_address="0x" + "be" * 20, network="eip155:8453"
    )
    start = clock.now() - dt.timedelta(minutes=5)
    rows = []
    for i in range(campaigns):
        if i < matching:
            pattern = "https://api.bench.example.com/*"
        elif i % 10 == 0:
            pattern = f"*keyword{i}*"  # host wildcard: the engine's fallback path
        else:
            pattern = f"https://api{i}.example.com/v{i % 7}/*"
        rows.append(
            Campaign(
                advertiser=advertiser,
                name=f"bench {i}",
                status=Campaign.Status.ACTIVE,
                bid_strategy=("cpa", "cpm", "cpc", "hybrid")[i % 4],
                budget_total=10**12,
                budget_daily=10**11,
                max_bid_amount=1000 + (i % 97),
                frequency_cap=10_000,
                schedule_start=start,
                target_url_patterns=[pattern],
                rec_resource_url=f"https://sponsor{i}.example.net/v1/tool",
                rec_description=f"Bench tool {i}",
                rec_sponsor_name="Bench",
            )
        )
    Campaign.objects.bulk_create(rows, batch_size=1000)
    issued = register_facilitator_with_key(name=f"bench-{clock.now().timestamp()}")
    return issued.api_key


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument(
        "--matching", type=int, default=10, help="how many of them match the benchmark resource"
    )
    args = parser.parse_args()
    key = seed(args.campaigns, args.matching)
    print(json.dumps({"apiKey": key, "campaigns": args.campaigns}))
