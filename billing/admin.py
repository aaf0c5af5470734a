"""Operator views of conversions, the ledger, invalid traffic and reconciliations."""

from django.contrib import admin

from adnet.core.admin import (
    ReadOnlyAdmin,
    WordsListFilter,
    label_column,
    millis_column,
    words_column,
)
from billing.models import Charge, Conversion, ConversionReport, InvalidTraffic, Reconciliation
from campaigns.models import Campaign


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "campaign",
        "kind",
        label_column("bid_strategy", "Pay for", Campaign.BidStrategy),
        millis_column("amount_millis", "Amount"),
        millis_column("unbilled_millis", "Unbilled"),
        words_column("unbilled_reason", "Unbilled because"),
        "day",
        "placement",
    )
    list_filter = ("kind", ("unbilled_reason", WordsListFilter))
    code_labels = {"bid_strategy": Campaign.BidStrategy}
    list_select_related = ("campaign", "placement")


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = (
        "converted_at",
        "campaign",
        "source",
        "status",
        "payer",
        "network",
        "original_tx_hash",
        "conversion_tx_hash",
    )
    list_filter = ("status", "source", "network")
    list_select_related = ("campaign",)
    search_fields = ("original_tx_hash", "conversion_tx_hash", "payer")


@admin.register(ConversionReport)
class ConversionReportAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "facilitator",
        "network",
        "conversion_tx_hash",
        "outcome",
        words_column("invalid_reason", "Invalid because"),
    )
    list_filter = ("outcome", ("invalid_reason", WordsListFilter))
    list_select_related = ("facilitator",)


@admin.register(InvalidTraffic)
class InvalidTrafficAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "source",
        words_column("reason", "Reason"),
        "campaign",
        "facilitator",
        "placement",
    )
    list_filter = ("source", ("reason", WordsListFilter))
    list_select_related = ("campaign", "facilitator", "placement")


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "campaigns_checked", "ok")
