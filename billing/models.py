"""Conversions, conversion reports, the append-only ledger of charges, and reconciliations."""

import uuid

from django.db import models
from django.db.models import Q


class Conversion(models.Model):
    """A later payment by the placement's payer for its conversion resource, in its window.

    One per placement (the one-to-one is the database's guarantee). Billable under cpa and
    hybrid only once both transaction hashes are known: together they are on-chain proof.
    """

    class Source(models.TextChoices):
        SERVER = "server", "Attributed by the network from observed settlements"
        REPORT = "report", "Reported by a facilitator"

    class Status(models.TextChoices):
        AWAITING_EVIDENCE = "awaiting_evidence", "Waiting for both transaction hashes"
        BILLED = "billed", "Billed"
        NOT_BILLABLE = "not_billable", "Recorded; the strategy does not bill conversions"
        UNBILLED = "unbilled", "Delivered but not billed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    placement = models.OneToOneField(
        "campaigns.Placement", on_delete=models.PROTECT, related_name="conversion"
    )
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    payer = models.CharField(max_length=128)
    network = models.CharField(max_length=64)
    resource_url = models.CharField(max_length=2048)
    converted_at = models.DateTimeField()
    # The converting settlement as the network observed it, when it did.
    match_request = models.ForeignKey(
        "campaigns.MatchRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    converting_facilitator = models.ForeignKey(
        "facilitators.Facilitator",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_tx_hash = models.CharField(max_length=128, blank=True, default="")
    conversion_tx_hash = models.CharField(max_length=128, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices)
    unbilled_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "converted_at"]),
            # The conversions report and the rollups read conversions by when they happened.
            models.Index(fields=["converted_at"], name="conversion_converted_at"),
        ]

    def __str__(self) -> str:
        return f"conversion of {self.placement_id} ({self.status})"


class ConversionReport(models.Model):
    """A facilitator's POST /v1/conversions, kept for idempotency and as evidence."""

    class Outcome(models.TextChoices):
        ATTRIBUTED = "attributed", "Attributed"
        CONFIRMED = "confirmed", "Confirmed a conversion the network had attributed"
        INVALID = "invalid", "Invalid (recorded, not applied)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    facilitator = models.ForeignKey(
        "facilitators.Facilitator", on_delete=models.PROTECT, related_name="+"
    )
    network = models.CharField(max_length=64)
    conversion_tx_hash = models.CharField(max_length=128)
    original_tx_hash = models.CharField(max_length=128)
    body_digest = models.CharField(max_length=64)
    body = models.JSONField()
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    invalid_reason = models.CharField(max_length=64, blank=True, default="")
    conversion = models.ForeignKey(
        Conversion, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "conversion_tx_hash"], name="conversion_report_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.network} {self.conversion_tx_hash} ({self.outcome})"


class Charge(models.Model):
    """One row per billable event of a placement. Append-only: never updated or deleted.

    `amount_millis` is what this event added to the placement's bill (a conversion that
    replaces an impression charge adds only the difference); `unbilled_millis` is what it
    should have added but the placement's hold could not cover.
    """

    class Kind(models.TextChoices):
        IMPRESSION = "impression", "Verified impression"
        CLICK = "click", "Click"
        CONVERSION = "conversion", "Conversion"

    id = models.BigAutoField(primary_key=True)
    placement = models.ForeignKey(
        "campaigns.Placement", on_delete=models.PROTECT, related_name="charges"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="charges"
    )
    facilitator = models.ForeignKey(
        "facilitators.Facilitator", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    bid_strategy = models.CharField(max_length=8)
    amount_millis = models.BigIntegerField()
    unbilled_millis = models.BigIntegerField(default=0)
    unbilled_reason = models.CharField(max_length=64, blank=True, default="")
    # The UTC day the spend counts against: the day the placement was matched and held.
    day = models.DateField()
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["placement", "kind"], name="charge_once_per_kind"),
            models.CheckConstraint(
                name="charge_amounts_non_negative",
                condition=Q(amount_millis__gte=0, unbilled_millis__gte=0),
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "day"]),
            # The rollups count each charge in the period it was booked.
            models.Index(fields=["created_at"], name="charge_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_millis} millis on {self.placement_id}"


class Reconciliation(models.Model):
    """A periodic check that fast counters agree with the ledger and the placements."""

    ran_at = models.DateTimeField()
    campaigns_checked = models.PositiveIntegerField()
    mismatches = models.JSONField(default=list)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"reconciliation {self.ran_at:%Y-%m-%d %H:%M} ({len(self.mismatches)} mismatches)"

    @property
    def ok(self) -> bool:
        return not self.mismatches


class InvalidTraffic(models.Model):
    """Traffic that got the normal answer but was never counted or billed, and why."""

    class Source(models.TextChoices):
        EVENT = "event", "Settlement event"
        BEACON = "beacon", "Impression beacon"
        CLICK = "click", "Click"
        CONVERSION = "conversion", "Conversion (report or attribution)"

    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    placement = models.ForeignKey(
        "campaigns.Placement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    facilitator = models.ForeignKey(
        "facilitators.Facilitator",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The settlement event or conversion report it came from (ids of other apps' rows).
    source_ref = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["reason", "occurred_at"]),
        ]
        constraints = [
            # An event or report is flagged once, however often it is processed.
            models.UniqueConstraint(
                fields=["source", "source_ref"],
                name="invalid_traffic_once",
                condition=~Q(source_ref=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"
