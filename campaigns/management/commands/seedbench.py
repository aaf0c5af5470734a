"""`manage.py seedbench --campaigns N`: N active campaigns and a facilitator key for benchmarks."""

import datetime as dt
import json

from django.core.management.base import BaseCommand
from django.db import transaction

from adnet.core import clock
from campaigns.models import Advertiser, Campaign
from facilitators.services import register_facilitator_with_key

# The settlement the benchmark sends; a handful of campaigns match it, the rest do not.
BENCH_RESOURCE = "https://api.bench.example.com/v1/quote"


class Command(BaseCommand):
    help = "Add N active benchmark campaigns and print a new facilitator key."

    def add_arguments(self, parser):
        parser.add_argument("--campaigns", type=int, default=1000)
        parser.add_argument(
            "--matching", type=int, default=10, help="how many of them match the benchmark resource"
        )

    @transaction.atomic
    def handle(self, *args, campaigns: int, matching: int, **options):
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
        self.stdout.write(json.dumps({"apiKey": issued.api_key, "campaigns": campaigns}))
