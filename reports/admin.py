"""The rollup tables as read-only admin lists; the report pages themselves are in `views`."""

from django.contrib import admin

from adnet.core.admin import ReadOnlyAdmin
from reports.models import InvalidTrafficRollup, RollupCheck, RollupState, TrafficRollup


@admin.register(TrafficRollup)
class TrafficRollupAdmin(ReadOnlyAdmin):
    list_display = (
        "start",
        "granularity",
        "campaign",
        "facilitator",
        "network",
        "transport",
        "matches_answered",
        "matches_unanswered",
        "placements",
        "impressions",
        "conversions",
        "billed_millis",
    )
    list_filter = ("granularity", "transport", "network")
    list_select_related = ("campaign", "facilitator")
    date_hierarchy = "start"


@admin.register(InvalidTrafficRollup)
class InvalidTrafficRollupAdmin(ReadOnlyAdmin):
    list_display = ("start", "granularity", "reason", "source", "campaign", "facilitator", "count")
    list_filter = ("granularity", "source", "reason")
    list_select_related = ("campaign", "facilitator")


@admin.register(RollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = ("day", "as_of", "finished_at", "duration_ms", "traffic_rows", "hourly")


@admin.register(RollupCheck)
class RollupCheckAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "start", "end", "days_checked", "ok")
