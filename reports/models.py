"""Rollups of the raw traffic and ledger rows per hour and UTC day, their freshness and checks.

Every row here is derived: `services.roll_up_day` deletes a day's rows and inserts them
again from the raw rows in one transaction, so any of them can be thrown away and rebuilt.
"""

import itertools

from django.db import models
from django.db.models import Q

# The measures of a TrafficRollup row, in the order reports show them.
TRAFFIC_MEASURES = (
    "matches_answered",
    "matches_unanswered",
    "placements",
    "deliveries",
    "impressions",
    "clicks",
    "conversions",
    "settlement_events",
    "billed_millis",
    "unbilled_millis",
)


class Granularity(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "UTC day"


def _cell_constraints(prefix: str, fields: list[str], nullable: list[str]) -> list:
    """One rollup row per cell. NULL never equals NULL in a unique index, so there is one
    partial unique constraint for each combination of the nullable keys being empty."""
    constraints = []
    for empties in itertools.product((False, True), repeat=len(nullable)):
        pairs = list(zip(nullable, empties, strict=True))
        condition = Q(**{f"{name}__isnull": empty for name, empty in pairs})
        missing = {name for name, empty in pairs if empty}
        suffix = "".join("n" if empty else "v" for empty in empties)
        constraints.append(
            models.UniqueConstraint(
                fields=[name for name in fields if name not in missing],
                condition=condition,
                name=f"{prefix}_cell_{suffix}",
            )
        )
    return constraints


class TrafficRollup(models.Model):
    """What happened in one cell (campaign x facilitator x network x transport) in one hour
    or UTC day. Each measure counts its event in the period the event happened."""

    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    # UTC start of the hour or day: half-open [start, start + 1 hour or day).
    start = models.DateTimeField()
    # Empty for match requests nothing answered (and events naming no placement).
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    facilitator = models.ForeignKey(
        "facilitators.Facilitator", on_delete=models.CASCADE, related_name="+"
    )
    network = models.CharField(max_length=64, blank=True, default="")
    # Empty for settlement events naming no placement (the event has no transport).
    transport = models.CharField(max_length=8, blank=True, default="")

    matches_answered = models.BigIntegerField(default=0)
    matches_unanswered = models.BigIntegerField(default=0)
    placements = models.BigIntegerField(default=0)
    deliveries = models.BigIntegerField(default=0)
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    conversions = models.BigIntegerField(default=0)
    settlement_events = models.BigIntegerField(default=0)
    # Millis (1/1000 atomic unit), from the ledger.
    billed_millis = models.BigIntegerField(default=0)
    unbilled_millis = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["granularity", "start"]),
            models.Index(fields=["campaign", "granularity", "start"]),
            models.Index(fields=["facilitator", "granularity", "start"]),
        ]
        constraints = _cell_constraints(
            "traffic_rollup",
            ["granularity", "start", "campaign", "facilitator", "network", "transport"],
            ["campaign"],
        )

    def __str__(self) -> str:
        return f"{self.granularity} {self.start:%Y-%m-%d %H:%M} {self.campaign_id}"


class InvalidTrafficRollup(models.Model):
    """Invalid traffic of one cell and reason in one hour or UTC day."""

    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    start = models.DateTimeField()
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Empty for forged tokens: nothing says which facilitator sent them.
    facilitator = models.ForeignKey(
        "facilitators.Facilitator",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The placement's network and transport; empty when no placement was named.
    network = models.CharField(max_length=64, blank=True, default="")
    transport = models.CharField(max_length=8, blank=True, default="")
    source = models.CharField(max_length=16)
    reason = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["granularity", "start"]),
            models.Index(fields=["campaign", "granularity", "start"]),
        ]
        constraints = _cell_constraints(
            "invalid_rollup",
            [
                "granularity",
                "start",
                "campaign",
                "facilitator",
                "network",
                "transport",
                "source",
                "reason",
            ],
            ["campaign", "facilitator"],
        )

    def __str__(self) -> str:
        return f"{self.granularity} {self.start:%Y-%m-%d %H:%M} {self.reason} x{self.count}"


class RollupState(models.Model):
    """When a day's rollups were last rebuilt, and from raw rows as of which moment."""

    day = models.DateField(primary_key=True)
    # The clock when the rebuild read the raw rows: everything before it is in the rollups.
    as_of = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    traffic_rows = models.PositiveIntegerField()
    invalid_rows = models.PositiveIntegerField()
    hourly = models.BooleanField(default=False)
    # Every hour of the day that ended before this moment has hourly rows counted by a
    # rebuild that read the raw rows after the hour ended; the minute run of today sums
    # those rows instead of counting the hours again. Null: no such hour (or no hourly rows).
    hours_closed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"rollup {self.day} as of {self.as_of:%H:%M:%S}"


class RollupCheck(models.Model):
    """A reconciliation of the daily rollups against direct counts over the raw rows.

    `differences` lists every (day, measure) that disagreed; those days were then rebuilt,
    and `remaining` lists what still disagreed after the rebuild (a bug, not late data).
    """

    ran_at = models.DateTimeField()
    start = models.DateField()
    end = models.DateField()
    days_checked = models.PositiveIntegerField()
    differences = models.JSONField(default=list)
    rebuilt = models.JSONField(default=list)
    remaining = models.JSONField(default=list)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"rollup check {self.ran_at:%Y-%m-%d %H:%M} ({len(self.differences)} differences)"

    @property
    def ok(self) -> bool:
        return not self.remaining
