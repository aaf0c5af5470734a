"""Operator views of advertisers and placements in the Django admin.

Campaigns are administered by the accounts app, which scopes them to the signed-in advertiser.
"""

from django.contrib import admin

from campaigns.models import Advertiser, MatchRequest, Placement


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
