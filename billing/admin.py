"""Operator views of conversions, the ledger, invalid traffic and reconciliations."""

from django.contrib import admin

from adnet.core.admin import ReadOnlyAdmin
from billing.models import Charge, Conversion, ConversionReport, InvalidTraffic, Reconciliation


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "campaign",
        "kind",
        "bid_strategy",
        "amount_millis",
        "unbilled_millis",
        "unbilled_reason",
        "day",
        "placement",
    )
    list_filter = ("kind", "bid_strategy", "unbilled_reason")


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
    search_fields = ("original_tx_hash", "conversion_tx_hash", "payer")


@admin.register(ConversionReport)
class ConversionReportAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "facilitator",
        "network",
        "conversion_tx_hash",
        "outcome",
        "invalid_reason",
    )
    list_filter = ("outcome", "invalid_reason")


@admin.register(InvalidTraffic)
class InvalidTrafficAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "source", "reason", "campaign", "facilitator", "placement")
    list_filter = ("source", "reason")


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "campaigns_checked", "ok")
