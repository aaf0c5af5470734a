"""Read-only report API for operators: the same data as the admin report pages, as JSON."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from adnet.core import networks
from adnet.core.errors import ValidationFailed
from adnet.core.paging import PAGE_PARAMS, page_params
from campaigns.api.serializers import ErrorSerializer
from facilitators.api.permissions import IsOperator
from reports import selectors
from reports.api import serializers as out
from reports.forms import DEFAULT_DAYS, FIRST_DAY, LAST_DAY, MAX_DAYS, ReportFilterForm
from reports.models import Granularity
from reports.selectors import ReportFilter

ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 429, 503)}

FILTER_PARAMS = [
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description=f"First UTC day; default {DEFAULT_DAYS} days ago."
    ),
    OpenApiParameter(
        "end",
        OpenApiTypes.DATE,
        description=f"UTC day after the last one (not included); default tomorrow. "
        f"At most {MAX_DAYS} days in all. Both days between {FIRST_DAY} and {LAST_DAY}.",
    ),
    OpenApiParameter("campaign_id", OpenApiTypes.UUID),
    OpenApiParameter("advertiser_id", OpenApiTypes.UUID),
    OpenApiParameter("facilitator_id", OpenApiTypes.UUID),
    OpenApiParameter("network", OpenApiTypes.STR, description='CAIP-2, e.g. "eip155:8453".'),
    OpenApiParameter("transport", OpenApiTypes.STR, enum=list(networks.TRANSPORTS)),
]


def _filter(request) -> ReportFilter:
    form = ReportFilterForm(request.query_params)
    if not form.is_valid():
        raise ValidationFailed(details=form.error_details())
    return form.report_filter()


class ReportApi(APIView):
    permission_classes = [IsOperator]


class ReportStatusApi(ReportApi):
    @extend_schema(
        operation_id="reports_status",
        description="How far today's rollups are behind the raw rows (Celery beat rebuilds "
        "today every minute).",
        responses={200: out.RollupStatusSerializer, **ERRORS},
    )
    def get(self, request):
        return Response(out.RollupStatusSerializer(selectors.rollup_status()).data)


class OverviewReportApi(ReportApi):
    @extend_schema(
        operation_id="reports_overview",
        description="Totals, one row per UTC day, top campaigns and facilitators, invalid "
        "traffic by reason, the network's own loss, rollup freshness and the latest "
        "reconciliations.",
        parameters=FILTER_PARAMS,
        responses={200: out.OverviewSerializer, **ERRORS},
    )
    def get(self, request):
        report = _filter(request)
        checks = selectors.latest_checks()
        data = {
            "start": report.start,
            "end": report.end,
            "totals": selectors.totals(report),
            "days": selectors.daily_series(report),
            "top_campaigns": selectors.top_campaigns(report),
            "top_facilitators": selectors.top_facilitators(report),
            "invalid_by_reason": selectors.invalid_by_reason(report),
            "network_loss": selectors.network_loss(report),
            "rollups": selectors.rollup_status(),
            "checks": {"rollups": checks["rollups"], "ledger": checks["ledger"]},
        }
        return Response(out.OverviewSerializer(data).data)


class TrafficReportApi(ReportApi):
    @extend_schema(
        operation_id="reports_traffic",
        description="The rollup rows: one per period and campaign x facilitator x network x "
        "transport. Hourly rows are kept for the last days only.",
        parameters=[
            *FILTER_PARAMS,
            OpenApiParameter(
                "granularity", OpenApiTypes.STR, enum=Granularity.values, description="default day"
            ),
            *PAGE_PARAMS,
        ],
        responses={200: out.TrafficListSerializer, **ERRORS},
    )
    def get(self, request):
        report = _filter(request)
        granularity = request.query_params.get("granularity", Granularity.DAY)
        if granularity not in Granularity.values:
            raise ValidationFailed(
                details={"granularity": [f"Must be one of {Granularity.values}."]}
            )
        limit, offset = page_params(request)
        qs = selectors.traffic_rows(report, granularity)
        data = {"traffic": list(qs[offset : offset + limit]), "count": qs.count()}
        return Response(out.TrafficListSerializer(data).data)


class ConversionReportApi(ReportApi):
    @extend_schema(
        operation_id="reports_conversions",
        description="Conversions that happened in the range, newest first, with both "
        "transaction hashes and their block-explorer links.",
        parameters=[*FILTER_PARAMS, *PAGE_PARAMS],
        responses={200: out.ConversionListSerializer, **ERRORS},
    )
    def get(self, request):
        report = _filter(request)
        limit, offset = page_params(request)
        qs = selectors.conversions(report)
        names = selectors.Names()
        rows = [selectors.conversion_record(row, names) for row in qs[offset : offset + limit]]
        data = {"conversions": rows, "count": qs.count()}
        return Response(out.ConversionListSerializer(data).data)


class PlacementReportApi(ReportApi):
    @extend_schema(
        operation_id="reports_placements",
        description="The delivery log: placements matched in the range, newest first.",
        parameters=[*FILTER_PARAMS, *PAGE_PARAMS],
        responses={200: out.PlacementListSerializer, **ERRORS},
    )
    def get(self, request):
        report = _filter(request)
        limit, offset = page_params(request)
        qs = selectors.placements(report)
        names = selectors.Names()
        rows = [selectors.placement_record(row, names) for row in qs[offset : offset + limit]]
        data = {"placements": rows, "count": qs.count()}
        return Response(out.PlacementListSerializer(data).data)


class FacilitatorReportApi(ReportApi):
    @extend_schema(
        operation_id="reports_facilitators",
        description="Per facilitator: match requests, fill rate, deliveries, outcomes, "
        "invalid traffic and spend.",
        parameters=[*FILTER_PARAMS, *PAGE_PARAMS],
        responses={200: out.FacilitatorListSerializer, **ERRORS},
    )
    def get(self, request):
        report = _filter(request)
        limit, offset = page_params(request)
        rows = selectors.facilitators(report)
        data = {"facilitators": rows[offset : offset + limit], "count": len(rows)}
        return Response(out.FacilitatorListSerializer(data).data)


class InvalidTrafficReportApi(ReportApi):
    @extend_schema(
        operation_id="reports_invalid_traffic",
        description="Invalid traffic per reason, source, facilitator and campaign, most first.",
        parameters=[*FILTER_PARAMS, *PAGE_PARAMS],
        responses={200: out.InvalidListSerializer, **ERRORS},
    )
    def get(self, request):
        report = _filter(request)
        limit, offset = page_params(request)
        qs = selectors.invalid_rows(report)
        data = {"invalid_traffic": list(qs[offset : offset + limit]), "count": qs.count()}
        return Response(out.InvalidListSerializer(data).data)
