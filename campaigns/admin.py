"""Operator views of advertisers, campaigns and placements in the Django admin."""

from django.contrib import admin

from campaigns.models import Advertiser, Campaign, MatchRequest, Placement


@admin.register(Advertiser)
class AdvertiserAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "wallet_address", "network", "created_at")
    search_fields = ("name", "id", "wallet_address")
    readonly_fields = ("id", "created_at")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "advertiser",
        "status",
        "bid_strategy",
        "max_bid_amount",
        "budget_total",
        "budget_daily",
        "schedule_start",
    )
    list_filter = ("status", "bid_strategy")
    search_fields = ("name", "id")
    # Budget counters move only through the services' conditional updates.
    readonly_fields = (
        "id",
        "spent_millis",
        "held_millis",
        "day",
        "day_spent_millis",
        "day_held_millis",
        "created_at",
        "updated_at",
    )


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
