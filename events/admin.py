"""Operator views of the event inbox, conflicts and invalid traffic."""

from django.contrib import admin

from events.models import EventConflict, InvalidTraffic, SettlementEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SettlementEvent)
class SettlementEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "facilitator",
        "network",
        "tx_hash",
        "status",
        "invalid_reason",
        "attempts",
        "received_at",
        "processed_at",
    )
    list_filter = ("status", "invalid_reason", "network")
    search_fields = ("id", "tx_hash", "payer")


@admin.register(EventConflict)
class EventConflictAdmin(ReadOnlyAdmin):
    list_display = ("event", "facilitator", "received_at")


@admin.register(InvalidTraffic)
class InvalidTrafficAdmin(ReadOnlyAdmin):
    list_display = ("source", "reason", "occurred_at", "campaign", "facilitator", "placement")
    list_filter = ("source", "reason")
