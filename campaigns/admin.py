"""Operator views of advertisers, the read-only match requests and placements, and the match
journal's set-aside and lost records.

Campaigns are administered by the accounts app, which scopes them to the signed-in advertiser.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from adnet.core.admin import ReadOnlyAdmin, millis_column
from campaigns import validation
from campaigns.models import (
    Advertiser,
    Campaign,
    JournalSetAside,
    LostPlacement,
    MatchRequest,
    Placement,
)


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


class OperatorsOnly(ReadOnlyAdmin):
    """Read-only, and visible to operators (superusers) only."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


@admin.register(JournalSetAside)
class JournalSetAsideAdmin(OperatorsOnly):
    list_display = ("set_aside_at", "entry_id", "reason", "error")
    list_filter = ("reason",)

    def get_fields(self, request, obj=None):
        return [f for f in super().get_fields(request, obj) if f != "raw"] + ["record"]

    @admin.display(description="record as Redis held it")
    def record(self, obj: JournalSetAside) -> str:
        return bytes(obj.raw).decode("utf-8", errors="backslashreplace")


@admin.register(LostPlacement)
class LostPlacementAdmin(OperatorsOnly):
    list_display = ("seen_at", "placement_id", "campaign_id", "source")
    list_filter = ("source",)
