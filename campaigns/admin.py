"""Operator views of advertisers, placements and the match journal's set-aside and lost records.

Campaigns are administered by the accounts app, which scopes them to the signed-in advertiser.
"""

from django.contrib import admin

from adnet.core.admin import ReadOnlyAdmin
from campaigns.models import Advertiser, JournalSetAside, LostPlacement, MatchRequest, Placement


@admin.register(Advertiser)
class AdvertiserAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "wallet_address", "network", "created_at")
    search_fields = ("name", "id", "wallet_address")
    readonly_fields = ("id", "created_at")


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "campaign",
        "facilitator",
        "payer",
        "network",
        "transport",
        "state",
        "price_millis",
        "hold_millis",
        "matched_at",
    )
    list_filter = ("state", "transport", "network")
    search_fields = ("id", "payer")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MatchRequest)
class MatchRequestAdmin(admin.ModelAdmin):
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

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
    readonly_fields = ("entry_id", "reason", "error", "set_aside_at", "record")
    exclude = ("raw",)

    @admin.display(description="record as Redis held it")
    def record(self, obj: JournalSetAside) -> str:
        return bytes(obj.raw).decode("utf-8", errors="backslashreplace")


@admin.register(LostPlacement)
class LostPlacementAdmin(OperatorsOnly):
    list_display = ("seen_at", "placement_id", "campaign_id", "source")
    list_filter = ("source",)
