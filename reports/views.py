"""Operator report pages in the Django admin (staff only) and their streamed CSV exports.

Each view parses the one filter form, reads through `selectors`, and lays the records
out with the columns of `tables`, which its CSV export shares.
"""

import datetime as dt

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse

from adnet.core import clock
from adnet.core.networks import KNOWN_NETWORKS
from reports import charts, selectors, tables
from reports import formatting as fmt
from reports.exports import csv_response
from reports.forms import ReportFilterForm
from reports.selectors import ReportFilter

NAV = (
    ("reports:overview", "Overview"),
    ("reports:conversions", "Conversions"),
    ("reports:facilitators", "Facilitators"),
    ("reports:invalid-traffic", "Invalid traffic"),
    ("reports:placements", "Delivery log"),
)
PAGE_SIZE = 100


def _parse(request: HttpRequest) -> tuple[ReportFilterForm, ReportFilter | None]:
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    form.show_effective_range()
    return form, form.report_filter()


def _page(request: HttpRequest, template: str, title: str, active: str, form, **context):
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            # The report tables are wide; the admin's model sidebar would squeeze them.
            "is_nav_sidebar_enabled": False,
            "title": title,
            "nav": NAV,
            "active": active,
            "form": form,
            "query": query.urlencode(),
            "known_networks": sorted(KNOWN_NETWORKS.items()),
            "status": selectors.rollup_status(),
            **context,
        },
    )


def _bad_filter(form: ReportFilterForm) -> HttpResponse:
    lines = [f"{field}: {' '.join(msgs)}" for field, msgs in form.error_details().items()]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")


def _filename(name: str, report: ReportFilter) -> str:
    return f"{name}_{report.start.isoformat()}_{report.end.isoformat()}.csv"


def _day_label(day: dt.date) -> str:
    return day.strftime("%m-%d")


def _usdc_axis(value: float) -> str:
    return charts.usdc_axis(value)


def _paged_rows(request: HttpRequest, qs, table: tables.Table, record) -> tuple:
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    names = selectors.Names()
    return page, [table.cells(record(row, names)) for row in page.object_list]


# --- Overview ------------------------------------------------------------------------------


def overview(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    if report is None:
        return _page(request, "reports/overview.html", "Network overview", "overview", form)
    now = clock.now()
    totals = selectors.totals(report)
    days = selectors.daily_series(report)
    hours = selectors.hourly_today(report, now)
    labels = [_day_label(row["day"]) for row in days]
    reasons = selectors.invalid_by_reason(report)
    context = {
        "totals": totals,
        "kpis": [
            ("Match requests", f"{totals['match_requests']:,}"),
            ("Fill rate", fmt.percent(totals["fill_rate"])),
            ("Placements", f"{totals['placements']:,}"),
            ("Impressions", f"{totals['impressions']:,}"),
            ("Clicks", f"{totals['clicks']:,}"),
            ("Conversions", f"{totals['conversions']:,}"),
            ("Spend (USDC)", fmt.usdc_display(totals["billed_millis"])),
            ("Spend (atomic)", fmt.atomic(totals["billed_millis"])),
            ("Unbilled (USDC)", fmt.usdc_display(totals["unbilled_millis"])),
            ("Invalid traffic", f"{totals['invalid_traffic']:,}"),
        ],
        "requests_chart": charts.bar_chart(
            labels,
            [
                ("answered", [row["matches_answered"] for row in days]),
                ("unanswered", [row["matches_unanswered"] for row in days]),
            ],
            title="Match requests per UTC day",
        ),
        "spend_chart": charts.bar_chart(
            labels,
            [("billed", [row["billed_millis"] for row in days])],
            title="Spend per UTC day",
            value_format=_usdc_axis,
        ),
        "outcomes_chart": charts.bar_chart(
            labels,
            [
                ("impressions", [row["impressions"] for row in days]),
                ("clicks", [row["clicks"] for row in days]),
                ("conversions", [row["conversions"] for row in days]),
            ],
            title="Impressions, clicks and conversions per UTC day",
            stacked=False,
        ),
        "hours_chart": charts.bar_chart(
            [f"{row['hour']:%H}" for row in hours],
            [
                ("placements", [row["placements"] for row in hours]),
                ("unanswered", [row["matches_unanswered"] for row in hours]),
            ],
            title="Today by UTC hour",
        )
        if hours
        else None,
        "reasons_chart": charts.hbar_chart(
            [(fmt.words(fmt.REASON, row["reason"]), row["count"]) for row in reasons],
            title="Invalid traffic by reason",
            colour=charts.PALETTE[3],
        )
        if reasons
        else None,
        "campaigns_table": tables.CAMPAIGNS,
        "campaign_rows": [tables.CAMPAIGNS.cells(row) for row in selectors.top_campaigns(report)],
        "facilitators_table": tables.FACILITATORS,
        "facilitator_rows": [
            tables.FACILITATORS.cells(row) for row in selectors.top_facilitators(report)
        ],
        "checks": selectors.latest_checks(),
        "narrowed": report.names_campaigns,
    }
    return _page(request, "reports/overview.html", "Network overview", "overview", form, **context)


def overview_csv(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    if report is None:
        return _bad_filter(form)
    rows = (tables.DAYS.csv_row(row) for row in selectors.daily_series(report))
    return csv_response(_filename("days", report), tables.DAYS.csv_header(), rows)


def traffic_csv(request: HttpRequest) -> HttpResponse:
    """Every daily rollup row of the range: campaign x facilitator x network x transport."""
    form, report = _parse(request)
    if report is None:
        return _bad_filter(form)
    rows = (tables.TRAFFIC.csv_row(row) for row in selectors.stream(selectors.traffic_rows(report)))
    return csv_response(_filename("traffic", report), tables.TRAFFIC.csv_header(), rows)


# --- Conversions ---------------------------------------------------------------------------


def conversions(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    context = {"table": tables.CONVERSIONS}
    if report is not None:
        context["page"], context["rows"] = _paged_rows(
            request, selectors.conversions(report), tables.CONVERSIONS, selectors.conversion_record
        )
    return _page(
        request,
        "reports/rows.html",
        "Conversions",
        "conversions",
        form,
        csv="reports:conversions-csv",
        **context,
    )


def conversions_csv(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    if report is None:
        return _bad_filter(form)
    names = selectors.Names()
    rows = (
        tables.CONVERSIONS.csv_row(selectors.conversion_record(row, names))
        for row in selectors.stream(selectors.conversions(report))
    )
    return csv_response(_filename("conversions", report), tables.CONVERSIONS.csv_header(), rows)


# --- Delivery log --------------------------------------------------------------------------


def placements(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    context = {"table": tables.PLACEMENTS}
    if report is not None:
        context["page"], context["rows"] = _paged_rows(
            request, selectors.placements(report), tables.PLACEMENTS, selectors.placement_record
        )
    return _page(
        request,
        "reports/rows.html",
        "Delivery log",
        "placements",
        form,
        csv="reports:placements-csv",
        **context,
    )


def placements_csv(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    if report is None:
        return _bad_filter(form)
    names = selectors.Names()
    rows = (
        tables.PLACEMENTS.csv_row(selectors.placement_record(row, names))
        for row in selectors.stream(selectors.placements(report))
    )
    return csv_response(_filename("placements", report), tables.PLACEMENTS.csv_header(), rows)


# --- Facilitators --------------------------------------------------------------------------


def facilitators(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    context = {"table": tables.FACILITATORS}
    if report is not None:
        rows = selectors.facilitators(report)
        names = [row["facilitator_name"] for row in rows]
        context["rows"] = [tables.FACILITATORS.cells(row) for row in rows]
        context["charts"] = [
            charts.bar_chart(
                names,
                [
                    ("answered", [row["matches_answered"] for row in rows]),
                    ("unanswered", [row["matches_unanswered"] for row in rows]),
                ],
                title="Match requests per facilitator",
            ),
            charts.hbar_chart(
                [(row["facilitator_name"], row["billed_millis"]) for row in rows],
                title="Spend per facilitator",
                value_format=_usdc_axis,
            ),
        ]
    return _page(
        request,
        "reports/rows.html",
        "Facilitators",
        "facilitators",
        form,
        csv="reports:facilitators-csv",
        **context,
    )


def facilitators_csv(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    if report is None:
        return _bad_filter(form)
    rows = (tables.FACILITATORS.csv_row(row) for row in selectors.facilitators(report))
    return csv_response(_filename("facilitators", report), tables.FACILITATORS.csv_header(), rows)


# --- Invalid traffic -----------------------------------------------------------------------


def invalid_traffic(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    context = {"table": tables.INVALID}
    if report is not None:
        page = Paginator(selectors.invalid_rows(report), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        days = selectors.daily_series(report)
        reasons = selectors.invalid_by_reason(report)
        context["page"] = page
        context["rows"] = [tables.INVALID.cells(row) for row in page.object_list]
        context["charts"] = [
            charts.bar_chart(
                [_day_label(row["day"]) for row in days],
                [("invalid", [row["invalid_traffic"] for row in days])],
                title="Invalid traffic per UTC day",
            ),
        ]
        if reasons:
            context["charts"].append(
                charts.hbar_chart(
                    [(fmt.words(fmt.REASON, row["reason"]), row["count"]) for row in reasons],
                    title="Invalid traffic by reason",
                    colour=charts.PALETTE[3],
                )
            )
    return _page(
        request,
        "reports/rows.html",
        "Invalid traffic",
        "invalid-traffic",
        form,
        csv="reports:invalid-traffic-csv",
        **context,
    )


def invalid_traffic_csv(request: HttpRequest) -> HttpResponse:
    form, report = _parse(request)
    if report is None:
        return _bad_filter(form)
    rows = (tables.INVALID.csv_row(row) for row in selectors.stream(selectors.invalid_rows(report)))
    return csv_response(_filename("invalid-traffic", report), tables.INVALID.csv_header(), rows)
