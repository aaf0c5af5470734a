"""The advertiser dashboard and match preview: reads of rollups and campaign counters only.

Every figure comes from the reports rollups or the campaign row, never from raw
placements, so a page costs the same handful of queries however much traffic there was.
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from adnet.core import clock
from adnet.core.money import MILLIS_PER_ATOMIC
from billing.models import Conversion
from campaigns import services as campaign_services
from campaigns.matching import engine, patterns
from campaigns.models import Campaign
from reports import charts, selectors
from reports import formatting as fmt
from reports.explorers import tx_url
from reports.models import Granularity, TrafficRollup

CONVERSIONS_SHOWN = 50
MEASURES = ("placements", "impressions", "clicks", "conversions", "billed_millis")
_SUMS = {name: Coalesce(Sum(name), 0) for name in MEASURES}
REASONS = {
    engine.EXCLUDED_SCHEDULE: "Outside its schedule (not started yet, or ended).",
    engine.EXCLUDED_NETWORK: "This network is not among its networks.",
    engine.EXCLUDED_TRANSPORT: "This transport is not among its transports.",
    engine.EXCLUDED_URL_PATTERN: "The URL matches none of its URL patterns.",
    engine.EXCLUDED_CATEGORY: "The resource is not in one of its categories.",
    engine.EXCLUDED_SAME_RESOURCE: "It would recommend the very resource being paid for.",
    engine.EXCLUDED_SELF_DEALING: "The payer is the advertiser itself.",
    "not_active": "The campaign is not active (draft, paused, completed or exhausted).",
    "frequency_capped": "This payer has seen it as often as the frequency cap allows today.",
    "budget_total_committed": "The total budget is spent or held.",
    "budget_daily_committed": "Today's budget is spent or held.",
    "paced": "Even pacing: it is ahead of the even-delivery line for today.",
}


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


def _figures(row: dict | None) -> dict[str, Any]:
    row = row or dict.fromkeys(MEASURES, 0)
    conversions, billed = row["conversions"], row["billed_millis"]
    return {
        **{name: row[name] for name in MEASURES},
        "spend": fmt.usdc_display(billed),
        "conversion_rate": fmt.percent(conversions / row["placements"])
        if row["placements"]
        else "-",
        "cost_per_conversion": fmt.usdc_display(billed // conversions) if conversions else "-",
    }


def pacing(campaign: Campaign, now: dt.datetime) -> dict[str, Any]:
    """Spent so far against the even-delivery line, for the day and for the whole schedule."""
    today = clock.utc_day(now)
    day_start, _ = clock.day_bounds(today)
    day_fraction = (now - day_start).total_seconds() / 86400
    day_spent = campaign.day_spent_millis if campaign.day == today else 0
    day_line = int(campaign.budget_daily * MILLIS_PER_ATOMIC * day_fraction)
    total_line = None
    if campaign.schedule_end is not None:
        length = (campaign.schedule_end - campaign.schedule_start).total_seconds()
        elapsed = min(max((now - campaign.schedule_start).total_seconds(), 0), length)
        total_line = int(campaign.budget_total * MILLIS_PER_ATOMIC * elapsed / length)
    return {
        "spent_total": fmt.usdc_display(campaign.spent_millis),
        "budget_total": fmt.usdc_display(campaign.budget_total * MILLIS_PER_ATOMIC),
        "total_line": fmt.usdc_display(total_line) if total_line is not None else "no end date",
        "total_share": fmt.percent(
            campaign.spent_millis / (campaign.budget_total * MILLIS_PER_ATOMIC)
        ),
        "spent_today": fmt.usdc_display(day_spent),
        "budget_daily": fmt.usdc_display(campaign.budget_daily * MILLIS_PER_ATOMIC),
        "day_line": fmt.usdc_display(day_line // MILLIS_PER_ATOMIC * MILLIS_PER_ATOMIC),
        "day_state": "ahead" if day_spent > day_line else "on or behind",
    }


def build(
    campaigns: QuerySet[Campaign], *, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Per campaign today and over the UTC days [start, end), a daily chart, conversions."""
    now = now or clock.now()
    today = clock.utc_day(now)
    range_bounds = (clock.day_bounds(start)[0], clock.day_bounds(end)[0])
    rows = list(campaigns.order_by("name", "id"))
    in_range = _sums_by_campaign(campaigns, *range_bounds)
    on_today = _sums_by_campaign(campaigns, *clock.day_bounds(today))
    per_campaign = [
        {
            "campaign": campaign,
            "range": _figures(in_range.get(campaign.pk)),
            "today": _figures(on_today.get(campaign.pk)),
            "pacing": pacing(campaign, now),
        }
        for campaign in rows
    ]
    daily = {
        row["start"].date(): row
        for row in TrafficRollup.objects.filter(
            granularity=Granularity.DAY,
            start__gte=range_bounds[0],
            start__lt=range_bounds[1],
            campaign_id__in=campaigns.values("pk"),
        )
        .values("start")
        .annotate(**_SUMS)
    }
    days = [start + dt.timedelta(days=n) for n in range((end - start).days)]
    series = [daily.get(day, dict.fromkeys(MEASURES, 0)) for day in days]
    labels = [day.strftime("%m-%d") for day in days]
    return {
        "start": start,
        "end_included": end - dt.timedelta(days=1),
        "campaigns": per_campaign,
        "totals": _figures(
            {name: sum(row[name] for row in series) for name in MEASURES} if series else None
        ),
        "outcomes_chart": charts.bar_chart(
            labels,
            [(name, [row[name] for row in series]) for name in MEASURES[:4]],
            title="Placements, impressions, clicks and conversions per UTC day",
        ),
        "spend_chart": charts.bar_chart(
            labels,
            [("spend", [row["billed_millis"] for row in series])],
            title="Spend per UTC day",
            value_format=charts.usdc_axis,
        ),
        "conversions": _conversions(campaigns, *range_bounds, names=rows),
        "status": selectors.rollup_status(now),
    }


def _conversions(campaigns, start: dt.datetime, end: dt.datetime, *, names: list[Campaign]):
    qs = (
        Conversion.objects.filter(
            converted_at__gte=start, converted_at__lt=end, campaign_id__in=campaigns.values("pk")
        )
        .order_by("-converted_at", "-id")
        .values_list(*selectors.CONVERSION_FIELDS)[:CONVERSIONS_SHOWN]
    )
    by_id = {campaign.pk: campaign.name for campaign in names}
    records = []
    for row in qs:
        record = dict(zip(selectors.CONVERSION_FIELDS, row, strict=True))
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
                "status": record["status"],
                "billed": fmt.usdc_display(record["placement__billed_millis"]),
            }
        )
    return records


# --- Preview -------------------------------------------------------------------------------

PREVIEW_PAYER = "preview"


def preview(
    campaigns: QuerySet[Campaign], *, resource_url: str, network: str, transport: str
) -> dict[str, Any]:
    """Which of these campaigns would answer a settlement like this one, and why not.

    Uses the matching engine's explain mode and shows only the caller's campaigns: other
    advertisers' candidates and the size of the live catalogue are not theirs to see.
    """
    own = {str(pk): name for pk, name in campaigns.values_list("pk", "name")}
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
    return {
        "rows": [
            {
                "name": own[c["campaignId"]],
                "campaign_id": c["campaignId"],
                "would_answer": c["excluded"] is None,
                "wins": c["campaignId"] == winner,
                "reason": REASONS.get(c["excluded"], c["excluded"] or ""),
                "billing_event": c["billingEvent"],
                "price": fmt.usdc_display(c["priceMillis"]),
            }
            for c in candidates
        ],
    }
