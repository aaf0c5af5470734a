"""Operator views of advertisers, and the read-only match requests and placements.

Campaigns are administered by the accounts app, which scopes them to the signed-in advertiser.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from adnet.core.admin import ReadOnlyAdmin, millis_column
from campaigns import validation
from campaigns.models import Advertiser, Campaign, MatchRequest, Placement


class AdvertiserForm(forms.ModelForm):
    """The API's rules (campaigns.validation): a CAIP-2 network, a wallet valid on it."""

    network = forms.CharField(
        max_length=64,
        validators=[validation.validate_network],
        help_text='A CAIP-2 id, e.g. "eip155:8453" for Base.',
    )

    class Meta:
        model = Advertiser
        fields = ["name", "wallet_address", "network"]

    def clean(self):
        cleaned = super().clean()
        network, wallet = cleaned.get("network"), cleaned.get("wallet_address")
        if network and wallet:
            try:
                cleaned["wallet_address"] = validation.normalized_wallet(network, wallet)
            except ValidationError as exc:
                self.add_error("wallet_address", exc)
        return cleaned


@admin.register(Advertiser)
class AdvertiserAdmin(admin.ModelAdmin):
    form = AdvertiserForm
    list_display = ("name", "id", "wallet_address", "network", "created_at")
    search_fields = ("name", "id", "wallet_address")
    readonly_fields = ("id", "created_at")


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "campaign",
        "facilitator",
        "payer",
        "network",
        "transport",
        "state",
        millis_column("price_millis", "Price"),
        millis_column("billed_millis", "Billed"),
        "matched_at",
    )
    list_filter = ("state", "transport", "network")
    list_select_related = ("campaign", "facilitator")
    code_labels = {"bid_strategy": Campaign.BidStrategy}
    search_fields = ("=id", "=payer")


@admin.register(MatchRequest)
class MatchRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "facilitator",
        "received_at",
        "network",
        "payer",
        "resource_url",
        "matched",
    )
    list_filter = ("matched", "network", "transport")
    list_select_related = ("facilitator",)
