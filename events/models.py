"""The settlement-event inbox, hash conflicts, and the invalid-traffic record."""

import uuid

from django.db import models


class SettlementEvent(models.Model):
    """A facilitator's report of a settlement that carried a recommendation.

    Written durably before the API answers 202; processed later by a Celery task that
    claims it with a lease (status `processing`, `lease_until`), so a killed worker's event
    is claimed again once the lease runs out and an event that keeps failing ends `dead`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        INVALID = "invalid", "Invalid (recorded, not applied)"
        DEAD = "dead", "Dead (failed too often)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    facilitator = models.ForeignKey(
        "facilitators.Facilitator", on_delete=models.PROTECT, related_name="settlement_events"
    )
    network = models.CharField(max_length=64)
    tx_hash = models.CharField(max_length=128)
    payer = models.CharField(max_length=128)
    resource_url = models.CharField(max_length=2048)
    resource_description = models.CharField(max_length=1000, blank=True, default="")
    resource_mime_type = models.CharField(max_length=200, blank=True, default="")
    settled_amount = models.DecimalField(max_digits=78, decimal_places=0)
    campaign_ref = models.CharField(max_length=64, blank=True, default="")
    impression_token = models.CharField(max_length=256, blank=True, default="")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    # SHA-256 of the canonical body: a replay has the same digest, a conflicting claim not.
    body_digest = models.CharField(max_length=64)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    invalid_reason = models.CharField(max_length=64, blank=True, default="")
    placement = models.ForeignKey(
        "campaigns.Placement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlement_events",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    claim = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    dispatches = models.PositiveSmallIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "tx_hash"], name="event_chain_fact_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "dispatched_at"]),
            models.Index(fields=["payer", "network", "occurred_at"]),
            models.Index(fields=["received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.network} {self.tx_hash} ({self.status})"


class EventConflict(models.Model):
    """A settlement event whose (network, txHash) was already claimed with another body."""

    event = models.ForeignKey(SettlementEvent, on_delete=models.PROTECT, related_name="conflicts")
    facilitator = models.ForeignKey(
        "facilitators.Facilitator", on_delete=models.PROTECT, related_name="+"
    )
    body_digest = models.CharField(max_length=64)
    body = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The same conflicting body sent again is one conflict, not many.
            models.UniqueConstraint(
                fields=["event", "facilitator", "body_digest"], name="event_conflict_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"conflict on {self.event_id}"
