"""Thin API views: authenticate, validate, call one service or selector, serialize."""

import uuid

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from adnet import metrics
from adnet.core import clock, json_body, ratelimits
from adnet.core.errors import ValidationFailed
from adnet.core.paging import PAGE_PARAMS, page_params
from campaigns import budget, selectors, services
from campaigns.api import match_input
from campaigns.api.serializers import (
    AdvertiserInputSerializer,
    AdvertiserListSerializer,
    AdvertiserOutputSerializer,
    CampaignInputSerializer,
    CampaignListSerializer,
    CampaignOutputSerializer,
    CampaignUpdateSerializer,
    ErrorSerializer,
    MatchInputSerializer,
    MatchOutputSerializer,
)
from campaigns.errors import CampaignNotFound
from campaigns.matching import patterns
from campaigns.matching.engine import Settlement
from campaigns.models import Campaign
from facilitators.api.permissions import IsFacilitator, IsOperator, IsOperatorOrAdvertiser

ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409, 413, 415, 429, 503)}


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise CampaignNotFound() from exc


class AdvertiserListCreateApi(APIView):
    permission_classes = [IsOperatorOrAdvertiser]

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsOperator()]
        return super().get_permissions()

    @extend_schema(
        operation_id="advertisers_list",
        parameters=PAGE_PARAMS,
        responses={200: AdvertiserListSerializer, **ERRORS},
    )
    def get(self, request):
        limit, offset = page_params(request)
        qs = selectors.advertisers_for(request.user)
        data = {"advertisers": list(qs[offset : offset + limit]), "count": qs.count()}
        return Response(AdvertiserListSerializer(data).data)

    @extend_schema(
        operation_id="advertisers_create",
        request=AdvertiserInputSerializer,
        responses={201: AdvertiserOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = AdvertiserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        advertiser = services.create_advertiser(**serializer.validated_data)
        return Response(AdvertiserOutputSerializer(advertiser).data, status=status.HTTP_201_CREATED)


class CampaignListCreateApi(APIView):
    permission_classes = [IsOperatorOrAdvertiser]

    @extend_schema(
        operation_id="campaigns_list",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("status", OpenApiTypes.STR, enum=Campaign.Status.values),
            OpenApiParameter("advertiser_id", OpenApiTypes.UUID),
        ],
        responses={200: CampaignListSerializer, **ERRORS},
    )
    def get(self, request):
        limit, offset = page_params(request)
        status_filter = request.query_params.get("status")
        if status_filter and status_filter not in Campaign.Status.values:
            raise ValidationFailed(
                details={"status": [f"Must be one of {Campaign.Status.values}."]}
            )
        advertiser_id = request.query_params.get("advertiser_id")
        try:
            advertiser_uuid = uuid.UUID(advertiser_id) if advertiser_id else None
        except ValueError as exc:
            raise ValidationFailed(details={"advertiser_id": ["Must be a UUID."]}) from exc
        qs = selectors.campaigns_for(
            request.user, status=status_filter, advertiser_id=advertiser_uuid
        )
        data = {"campaigns": list(qs[offset : offset + limit]), "count": qs.count()}
        return Response(CampaignListSerializer(data).data)

    @extend_schema(
        operation_id="campaigns_create",
        request=CampaignInputSerializer,
        responses={201: CampaignOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = CampaignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        advertiser_id = values.pop("advertiser_id")
        if request.user.is_advertiser and advertiser_id != request.user.advertiser_id:
            # Another advertiser's id reads as unknown, never as "forbidden".
            raise ValidationFailed(details={"advertiser_id": ["No such advertiser."]})
        campaign = services.create_campaign(advertiser_id=advertiser_id, values=values)
        return Response(CampaignOutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    permission_classes = [IsOperatorOrAdvertiser]

    @extend_schema(
        operation_id="campaigns_retrieve", responses={200: CampaignOutputSerializer, **ERRORS}
    )
    def get(self, request, campaign_id):
        campaign = selectors.campaign_for(request.user, _uuid(campaign_id))
        return Response(CampaignOutputSerializer(campaign).data)

    @extend_schema(
        operation_id="campaigns_update",
        request=CampaignUpdateSerializer,
        responses={200: CampaignOutputSerializer, **ERRORS},
    )
    def patch(self, request, campaign_id):
        campaign = selectors.campaign_for(request.user, _uuid(campaign_id))
        serializer = CampaignUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.update_campaign(
            campaign=campaign, changes=dict(serializer.validated_data)
        )
        return Response(CampaignOutputSerializer(campaign).data)


class CampaignActivateApi(APIView):
    permission_classes = [IsOperatorOrAdvertiser]

    @extend_schema(
        operation_id="campaigns_activate",
        request=None,
        responses={200: CampaignOutputSerializer, **ERRORS},
    )
    def post(self, request, campaign_id):
        campaign = selectors.campaign_for(request.user, _uuid(campaign_id))
        campaign = services.activate_campaign(campaign=campaign)
        return Response(CampaignOutputSerializer(campaign).data)


class CampaignPauseApi(APIView):
    permission_classes = [IsOperatorOrAdvertiser]

    @extend_schema(
        operation_id="campaigns_pause",
        request=None,
        responses={200: CampaignOutputSerializer, **ERRORS},
    )
    def post(self, request, campaign_id):
        campaign = selectors.campaign_for(request.user, _uuid(campaign_id))
        campaign = services.pause_campaign(campaign=campaign)
        return Response(CampaignOutputSerializer(campaign).data)


def _tracking_base(request) -> str:
    """Where beacons and click links point: PUBLIC_BASE_URL, else the host asked."""
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"


class IsFacilitatorOrExplainingOperator(IsFacilitator):
    """Facilitators match; operators may only ask for the explanation (?explain=1)."""

    message = "This endpoint needs a facilitator key (operators: add ?explain=1)."

    def has_permission(self, request, view) -> bool:
        if _explaining(request):
            return IsOperator().has_permission(request, view)
        return super().has_permission(request, view)


def _explaining(request) -> bool:
    return request.query_params.get("explain") in {"1", "true"}


def _count(rate) -> None:
    """Count a request the match script will not see; fail open if Redis cannot."""
    if rate is None:
        return
    try:
        ratelimits.hit(rate)
    except ratelimits.RateLimited as limited:
        raise Throttled(wait=limited.wait_seconds) from None
    except budget.redis.RedisError:
        pass


class MatchApi(APIView):
    """Called by a facilitator after every settlement: is there a recommendation for this payer?"""

    permission_classes = [IsFacilitatorOrExplainingOperator]

    @staticmethod
    def counts_rate_itself(request) -> bool:
        """A match counts its key's rate in its budget script (one Redis round trip)."""
        return budget.enabled() and not _explaining(request)

    @extend_schema(
        operation_id="match",
        request=MatchInputSerializer,
        parameters=[
            OpenApiParameter(
                "explain",
                OpenApiTypes.STR,
                enum=["1"],
                description="Operators only: a dry run listing every campaign considered, "
                "why each was excluded, and the scores. Nothing is placed or recorded.",
            ),
            OpenApiParameter(
                "campaign_id",
                OpenApiTypes.UUID,
                many=True,
                description="With explain: also explain these campaigns even if their URL "
                "patterns do not match.",
            ),
        ],
        responses={200: MatchOutputSerializer, **ERRORS},
    )
    def post(self, request):
        rate = getattr(request, "rate_window", None)
        try:
            data = match_input.parse(request.data)
        except json_body.BodyRefused:
            _count(rate)  # refused requests count too
            raise
        except match_input.Invalid as exc:
            _count(rate)
            raise ValidationFailed(details=exc.details) from None
        settlement = settlement_of(data)
        if _explaining(request):
            try:
                campaign_ids = [uuid.UUID(v) for v in request.query_params.getlist("campaign_id")]
            except ValueError as exc:
                raise ValidationFailed(details={"campaign_id": ["Must be a UUID."]}) from exc
            return Response(
                services.explain_match(
                    settlement=settlement, now=clock.now(), campaign_ids=campaign_ids
                )
            )
        try:
            answer = match_answer(
                facilitator_id=request.user.facilitator_id,
                data=data,
                settlement=settlement,
                base=_tracking_base(request),
                rate=rate,
            )
        except ratelimits.RateLimited as limited:
            raise Throttled(wait=limited.wait_seconds) from None
        return Response(answer)


def settlement_of(data: dict) -> Settlement:
    """The settlement a validated match body describes."""
    return Settlement(
        resource_url=data["resourceUrl"],
        resource_key=patterns.resource_key(data["resourceUrl"]),
        description=data["resourceDescription"],
        network=data["network"],
        payer=data["payerWallet"],
        transport=data["transport"],
    )


def match_answer(
    *,
    facilitator_id: uuid.UUID,
    data: dict,
    base: str,
    rate: ratelimits.Window | None,
    settlement: Settlement | None = None,
) -> dict:
    """The body of a 200 answer to a validated match request: place (or not) and say so.

    Shared by MatchApi and the WSGI fast path (campaigns.api.fast_match), so both answer
    the same. Raises ratelimits.RateLimited when the key is over its rate.
    """
    outcome = services.match_settlement(
        facilitator_id=facilitator_id,
        settlement=settlement or settlement_of(data),
        settled_amount=data["settledAmount"],
        tx_hash=data["txHash"],
        now=clock.now(),
        rate=rate,
    )
    metrics.record_match(transport=data["transport"], matched=outcome.placement is not None)
    if outcome.placement is None:
        return {"matched": False}
    campaign = outcome.campaign
    return {
        "matched": True,
        "campaignId": str(campaign.id),
        "recommendation": selectors.recommendation_of(campaign),
        "impressionBeacon": f"{base}/v1/track/impression/{outcome.token}",
        "conversionResource": outcome.placement.conversion_resource,
        "impressionToken": outcome.token,
        "tracking": {"clickUrl": f"{base}/v1/track/click/{outcome.token}"},
    }
