"""Operator views of the settlement-event inbox and its hash conflicts."""

from django.contrib import admin

from adnet.core.admin import ReadOnlyAdmin, WordsListFilter, words_column
from events.models import EventConflict, SettlementEvent


@admin.register(SettlementEvent)
class SettlementEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "facilitator",
        "network",
        "tx_hash",
        "status",
        words_column("invalid_reason", "Invalid because"),
        "attempts",
        "received_at",
        "processed_at",
    )
    list_filter = ("status", ("invalid_reason", WordsListFilter), "network")
    list_select_related = ("facilitator",)
    search_fields = ("id", "tx_hash", "payer")


@admin.register(EventConflict)
class EventConflictAdmin(ReadOnlyAdmin):
    list_display = ("event", "facilitator", "received_at")
