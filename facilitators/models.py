"""Facilitators and the API keys of facilitators, advertisers and operators."""

import uuid

from django.db import models
from django.db.models import Q


class Facilitator(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A bearer credential. Only a SHA-256 of the full key is stored; the key is shown once.

    The key reads `<tag>_<key_id>_<secret>`: the tag names the kind, key_id is the public,
    indexed part (shown in lists as the prefix) and the secret carries 256 random bits, which
    is why a fast hash is enough (nothing to brute-force).
    """

    class Kind(models.TextChoices):
        FACILITATOR = "facilitator", "Facilitator"
        ADVERTISER = "advertiser", "Advertiser"
        OPERATOR = "operator", "Operator"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key_id = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    facilitator = models.ForeignKey(
        Facilitator, null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys"
    )
    # A plain id, not a foreign key: campaigns depends on facilitators, never the reverse.
    # Services check that the advertiser exists when the key is issued.
    advertiser_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="apikey_scope_matches_kind",
                condition=(
                    Q(kind="facilitator", facilitator__isnull=False, advertiser_id__isnull=True)
                    | Q(kind="advertiser", facilitator__isnull=True, advertiser_id__isnull=False)
                    | Q(kind="operator", facilitator__isnull=True, advertiser_id__isnull=True)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.kind})"

    @property
    def prefix(self) -> str:
        from facilitators.keys import KIND_TAGS

        return f"{KIND_TAGS[self.kind]}_{self.key_id}"
