"""The advertiser dashboard and match preview: reads of rollups and campaign counters only.

Every figure comes from the reports rollups or the campaign row, never from raw
placements, so a page costs the same handful of queries however much traffic there was.
The tables are `reports.tables` tables, so the page and its CSV say the same cells.
"""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from adnet.core import clock
from adnet.core.money import MILLIS_PER_ATOMIC
from billing.models import Charge, Conversion
from campaigns import selectors as campaign_selectors
from campaigns import services as campaign_services
from campaigns.matching import engine, patterns
from campaigns.models import Campaign
from reports import charts, selectors
from reports import formatting as fmt
from reports.explorers import tx_url
from reports.models import Granularity, TrafficRollup
from reports.tables import Column, Table

CONVERSIONS_SHOWN = 50
COUNTS = ("placements", "impressions", "clicks", "conversions")
MEASURES = (*COUNTS, "billed_millis")
_SUMS = {name: Coalesce(Sum(name), 0) for name in MEASURES}
_ZERO = dict.fromkeys(MEASURES, 0)


@dataclass(frozen=True)
class View:
    """What the dashboard shows: UTC days [start, end), optionally one campaign's hours on
    `day`."""

    start: dt.date
    end: dt.date
    day: dt.date
    campaign: Campaign | None = None


# --- Figures -------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> str:
    return fmt.percent(part / whole) if whole else ""


def figures(row: dict | None) -> dict[str, Any]:
    """Counts and spend with the rates people compare campaigns by. A rate with nothing to
    divide by is empty (shown as a dash), never 0."""
    row = row or _ZERO
    billed, impressions = row["billed_millis"], row["impressions"]
    conversions = row["conversions"]
    return {
        **{name: row[name] for name in MEASURES},
        "spend": fmt.usdc_display(billed),
        "ctr": _ratio(row["clicks"], impressions),
        "conversion_rate": _ratio(conversions, row["placements"]),
        # Spend per thousand impressions; integer millis until written out.
        "ecpm": fmt.usdc_display(billed * 1000 // impressions) if impressions else "",
        "cost_per_conversion": fmt.usdc_display(billed // conversions) if conversions else "",
    }


def _figure_columns() -> list[Column]:
    return [
        Column("Placements", lambda r: str(r["placements"]), numeric=True),
        Column("Impressions", lambda r: str(r["impressions"]), numeric=True),
        Column("Clicks", lambda r: str(r["clicks"]), numeric=True),
        Column("CTR", lambda r: r["ctr"], numeric=True),
        Column("Conversions", lambda r: str(r["conversions"]), numeric=True),
        Column("Conversion rate", lambda r: r["conversion_rate"], numeric=True),
        Column("Spend (USDC)", lambda r: r["spend"], numeric=True),
        Column("eCPM (USDC)", lambda r: r["ecpm"], numeric=True),
        Column("Cost per conversion (USDC)", lambda r: r["cost_per_conversion"], numeric=True),
    ]


CAMPAIGNS = Table(
    [
        Column("Campaign", lambda r: r["name"]),
        Column("Status", lambda r: fmt.words(fmt.CAMPAIGN_STATUS, r["status"])),
        *_figure_columns(),
    ]
)
HOURS = Table([Column("Hour (UTC)", lambda r: r["hour"]), *_figure_columns()])


def pacing(campaign: Campaign, now: dt.datetime) -> dict[str, str]:
    """Spent against budget, and for an active evenly paced campaign where it stands against
    the even-delivery line (the share of today's budget due by now). Campaigns that are not
    delivering have no pacing to speak of."""
    today = clock.utc_day(now)
    day_spent = campaign.day_spent_millis if campaign.day == today else 0
    budget_daily = campaign.budget_daily * MILLIS_PER_ATOMIC
    budget_total = campaign.budget_total * MILLIS_PER_ATOMIC
    result = {
        "spent_today": f"{fmt.usdc_display(day_spent)} of {fmt.usdc_display(budget_daily)} USDC",
        "spent_total": f"{fmt.usdc_display(campaign.spent_millis)} of "
        f"{fmt.usdc_display(budget_total)} USDC "
        f"({fmt.percent(campaign.spent_millis / budget_total)})",
        "state": "",
    }
    if campaign.status != Campaign.Status.ACTIVE:
        result["state"] = f"Not delivering ({fmt.words(fmt.CAMPAIGN_STATUS, campaign.status)})"
    elif campaign.pacing == Campaign.Pacing.ASAP:
        result["state"] = "As fast as possible (no even line)"
    else:
        day_start, _ = clock.day_bounds(today)
        elapsed_ms = int((now - day_start).total_seconds() * 1000)
        line = budget_daily * elapsed_ms // 86_400_000
        # The line moves every second: to the cent is as exact as it is useful.
        due = fmt.usdc_display(line // 10_000_000 * 10_000_000)
        where = "ahead of" if day_spent > line else "on or behind"
        result["state"] = f"{where.capitalize()} the even line ({due} USDC due by now)"
    return result


# --- The page ------------------------------------------------------------------------------


def _sums_by_campaign(campaigns: QuerySet[Campaign], start: dt.datetime, end: dt.datetime):
    rows = (
        TrafficRollup.objects.filter(
            granularity=Granularity.DAY,
            start__gte=start,
            start__lt=end,
            campaign_id__in=campaigns.values("pk"),
        )
        .values("campaign_id")
        .annotate(**_SUMS)
    )
    return {row["campaign_id"]: row for row in rows}


def _series(
    campaigns: QuerySet[Campaign], granularity: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, dict]:
    return {
        row["start"]: row
        for row in TrafficRollup.objects.filter(
            granularity=granularity,
            start__gte=start,
            start__lt=end,
            campaign_id__in=campaigns.values("pk"),
        )
        .values("start")
        .annotate(**_SUMS)
        .order_by()
    }


def _charts(labels: list[str], series: list[dict], what: str) -> dict[str, Any]:
    return {
        "outcomes_chart": charts.bar_chart(
            labels,
            [(name, [row[name] for row in series]) for name in COUNTS],
            title=f"Placements, impressions, clicks and conversions per {what}",
            stacked=False,
            empty_text="No placements in this period yet.",
        ),
        "spend_chart": charts.bar_chart(
            labels,
            [("spend", [row["billed_millis"] for row in series])],
            title=f"Spend per {what}",
            value_format=charts.usdc_axis,
            empty_text="No spend in this period yet.",
        ),
    }


def build(
    campaigns: QuerySet[Campaign], view: View, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Per campaign over the UTC days [start, end) and today, a daily chart, conversions,
    and when one campaign is chosen, its hours on the chosen day."""
    now = now or clock.now()
    if view.campaign is not None:
        campaigns = campaigns.filter(pk=view.campaign.pk)
    bounds = (clock.day_bounds(view.start)[0], clock.day_bounds(view.end)[0])
    rows = list(campaigns.order_by("name", "id"))
    in_range = _sums_by_campaign(campaigns, *bounds)
    records = [
        {
            "campaign": campaign,
            "name": campaign.name,
            "status": campaign.status,
            **figures(in_range.get(campaign.pk)),
            "pacing": pacing(campaign, now),
        }
        for campaign in rows
    ]
    daily = _series(campaigns, Granularity.DAY, *bounds)
    days = [view.start + dt.timedelta(days=n) for n in range((view.end - view.start).days)]
    series = [daily.get(clock.day_bounds(day)[0], _ZERO) for day in days]
    totals = {name: sum(row[name] for row in series) for name in MEASURES}
    data = {
        "view": view,
        "end_included": view.end - dt.timedelta(days=1),
        "campaigns": records,
        "campaign_rows": [(record, CAMPAIGNS.cells(record)) for record in records],
        "table": CAMPAIGNS,
        "kpis": _kpis(figures(totals)),
        "has_traffic": any(totals.values()),
        **_charts([day.strftime("%m-%d") for day in days], series, "UTC day"),
        "conversions": _conversions(campaigns, *bounds, names=rows),
        "status": selectors.rollup_status(now),
    }
    if view.campaign is not None:
        data["hours"] = _hours(campaigns, view.day, now)
    return data


def _kpis(total: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Placements", f"{total['placements']:,}"),
        ("Impressions", f"{total['impressions']:,}"),
        ("Clicks", f"{total['clicks']:,}"),
        ("CTR", total["ctr"]),
        ("Conversions", f"{total['conversions']:,}"),
        ("Conversion rate", total["conversion_rate"]),
        ("Spend (USDC)", total["spend"]),
        ("eCPM (USDC)", total["ecpm"]),
        ("Cost per conversion (USDC)", total["cost_per_conversion"]),
    ]


def _hour_records(campaigns: QuerySet[Campaign], day: dt.date) -> list[dict]:
    midnight, next_midnight = clock.day_bounds(day)
    stored = _series(campaigns, Granularity.HOUR, midnight, next_midnight)
    records = []
    for hour in range(24):
        start = midnight + dt.timedelta(hours=hour)
        row = stored.get(start, _ZERO)
        records.append({"hour": f"{start:%H}:00", **figures(row)})
    return records


def _hours(campaigns: QuerySet[Campaign], day: dt.date, now: dt.datetime) -> dict[str, Any]:
    records = _hour_records(campaigns, day)
    kept_from = clock.utc_day(now) - dt.timedelta(days=settings.REPORTS_HOURLY_DAYS)
    return {
        "day": day,
        # Hourly rollups are dropped after REPORTS_HOURLY_DAYS; older days have daily rows only.
        "dropped": day < kept_from,
        "kept_days": settings.REPORTS_HOURLY_DAYS,
        "table": HOURS,
        "cells": [HOURS.cells(record) for record in records],
        **_charts([record["hour"][:2] for record in records], records, "UTC hour"),
    }


def csv_table(campaigns: QuerySet[Campaign], view: View) -> tuple[Table, list[list[str]], str]:
    """What the page shows, as a CSV: the campaigns over the range, or with one campaign
    chosen, its hours on the chosen day."""
    if view.campaign is not None:
        records = _hour_records(campaigns.filter(pk=view.campaign.pk), view.day)
        name = f"campaign-hours_{view.day.isoformat()}"
        return HOURS, [HOURS.csv_row(r) for r in records], name
    bounds = (clock.day_bounds(view.start)[0], clock.day_bounds(view.end)[0])
    in_range = _sums_by_campaign(campaigns, *bounds)
    records = [
        {"name": c.name, "status": c.status, **figures(in_range.get(c.pk))}
        for c in campaigns.order_by("name", "id")
    ]
    name = f"campaigns_{view.start.isoformat()}_{view.end.isoformat()}"
    return CAMPAIGNS, [CAMPAIGNS.csv_row(r) for r in records], name


def _conversions(campaigns, start: dt.datetime, end: dt.datetime, *, names: list[Campaign]):
    rows = list(
        Conversion.objects.filter(
            converted_at__gte=start, converted_at__lt=end, campaign_id__in=campaigns.values("pk")
        )
        .order_by("-converted_at", "-id")
        .values_list(*selectors.CONVERSION_FIELDS)[:CONVERSIONS_SHOWN]
    )
    # What each conversion itself added to the bill: its own charge, not the placement's
    # total (which, for a conversion that is not billable, is the impression's charge).
    placement = selectors.CONVERSION_FIELDS.index("placement_id")
    charged = dict(
        Charge.objects.filter(
            placement_id__in=[row[placement] for row in rows], kind=Charge.Kind.CONVERSION
        ).values_list("placement_id", "amount_millis")
    )
    by_id = {campaign.pk: campaign.name for campaign in names}
    records = []
    for row in rows:
        record = dict(zip(selectors.CONVERSION_FIELDS, row, strict=True))
        billed = charged.get(record["placement_id"])
        records.append(
            {
                "converted_at": record["converted_at"],
                "campaign": by_id.get(record["campaign_id"], ""),
                "network": record["network"],
                "payer": record["payer"],
                "original_tx_hash": record["original_tx_hash"],
                "original_tx_url": tx_url(record["network"], record["original_tx_hash"]),
                "conversion_tx_hash": record["conversion_tx_hash"],
                "conversion_tx_url": tx_url(record["network"], record["conversion_tx_hash"]),
                "status": fmt.words(fmt.CONVERSION_STATUS, record["status"]),
                "billed": "" if billed is None else fmt.usdc_display(billed),
            }
        )
    return records


# --- Preview -------------------------------------------------------------------------------

PREVIEW_PAYER = "preview"
PREVIEW_TOKEN = "<impression token of the placement>"  # noqa: S105 - a placeholder, not a secret


def sponsored_access(recommendation: dict[str, str], *, base: str, conversion_resource: str):
    """`SettlementResponse.extensions["sponsored-access"]` as a facilitator injects it from
    our match answer (wire-contract §3); the preview has no placement, so its beacon names a
    placeholder token."""
    return {
        "delivered": True,
        "recommendations": [recommendation],
        "tracking": {
            "impressionBeacon": f"{base}/v1/track/impression/{PREVIEW_TOKEN}",
            "conversionResource": conversion_resource,
        },
    }


def preview(
    campaigns: QuerySet[Campaign], *, resource_url: str, network: str, transport: str, base: str
) -> dict[str, Any]:
    """Which of these campaigns would answer a settlement like this one, and why not, and
    what an agent would receive from the first of them that would.

    Uses the matching engine's explain mode and shows only the caller's campaigns: other
    advertisers' candidates and the size of the live catalogue are not theirs to see.
    """
    own = {str(campaign.pk): campaign for campaign in campaigns}
    settlement = engine.Settlement(
        resource_url=resource_url,
        resource_key=patterns.resource_key(resource_url),
        description="",
        network=network,
        payer=PREVIEW_PAYER,
        transport=transport,
    )
    explained = campaign_services.explain_match(settlement=settlement, campaign_ids=list(own))
    candidates = [c for c in explained["candidates"] if c["campaignId"] in own]
    winner = explained["winner"]
    rows = [
        {
            "name": own[c["campaignId"]].name,
            "campaign_id": c["campaignId"],
            "would_answer": c["excluded"] is None,
            "wins": c["campaignId"] == winner,
            "reason": fmt.words(fmt.REASON, c["excluded"]),
            "billing_event": fmt.words(fmt.BILLING_EVENT, c["billingEvent"]),
            "price": fmt.usdc_display(c["priceMillis"]),
        }
        for c in candidates
    ]
    chosen = next((own[c["campaignId"]] for c in candidates if c["excluded"] is None), None)
    shown = None
    if chosen is not None:
        recommendation = campaign_selectors.recommendation_of(chosen)
        block = sponsored_access(
            recommendation, base=base, conversion_resource=chosen.rec_resource_url
        )
        shown = {
            "campaign": chosen,
            "recommendation": recommendation,
            "block": block,
            "json": json.dumps({"sponsored-access": block}, indent=2, ensure_ascii=False),
        }
    return {"rows": rows, "shown": shown}
