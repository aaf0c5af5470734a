"""`manage.py rebuildrollups`: rebuild report rollups for some days, or reconcile them."""

import datetime as dt
import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from adnet.core import clock
from reports import services


class Command(BaseCommand):
    help = (
        "Rebuild the report rollups of the UTC days [--start, --end) from the raw rows "
        "(default: the last REPORTS_LATE_DAYS days and today), or --reconcile them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", type=dt.date.fromisoformat, help="first UTC day")
        parser.add_argument("--end", type=dt.date.fromisoformat, help="day after the last")
        parser.add_argument(
            "--reconcile",
            action="store_true",
            help="compare the closed days with the raw rows and rebuild those that differ",
        )

    def handle(self, *args, start, end, reconcile, **options):
        if reconcile:
            check = services.reconcile_rollups()
            self.stdout.write(
                json.dumps(
                    {
                        "daysChecked": check.days_checked,
                        "differences": len(check.differences),
                        "rebuilt": check.rebuilt,
                        "remaining": check.remaining,
                    }
                )
            )
            return
        today = clock.utc_day(clock.now())
        end = end or today + dt.timedelta(days=1)
        start = start or today - dt.timedelta(days=settings.REPORTS_LATE_DAYS)
        if start >= end:
            raise CommandError("--start must be before --end")
        began = time.monotonic()
        days = services.roll_up_range(start=start, end=end)
        self.stdout.write(f"rebuilt {days} day(s) in {time.monotonic() - began:.2f} s")
