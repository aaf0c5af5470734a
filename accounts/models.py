"""The link from a person's Django user to the one advertiser whose data they manage."""

from django.conf import settings
from django.db import models


class AdvertiserMembership(models.Model):
    """A user who belongs to an advertiser sees and changes only that advertiser's data.

    One advertiser per user (the OneToOne); an advertiser may have several users.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="advertiser_membership"
    )
    advertiser = models.ForeignKey(
        "campaigns.Advertiser", on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.advertiser}"
