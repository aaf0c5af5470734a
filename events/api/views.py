"""The settlement-event intake and the impression beacon."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_safe
from django_ratelimit.core import get_usage
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from adnet import metrics
from adnet.core import clock
from adnet.core.api_errors import error_body
from campaigns.api.serializers import ErrorSerializer
from events import services
from events.api.serializers import EventAcceptedSerializer, EventInputSerializer
from events.errors import BatchTooLarge
from facilitators.api.permissions import IsFacilitator

logger = logging.getLogger(__name__)

MAX_BATCH = 500
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 413, 415, 429, 503)}


def _event_input(data: dict) -> services.EventInput:
    return services.EventInput(
        tx_hash=data["txHash"],
        network=data["network"],
        resource_url=data["resource"]["url"],
        resource_description=data["resource"]["description"],
        resource_mime_type=data["resource"]["mimeType"],
        payer=data["payer"],
        settled_amount=data["settledAmount"],
        campaign_ref=str(data["campaignId"]) if data.get("campaignId") else "",
        impression_token=data.get("impressionToken") or "",
        occurred_at=data["timestamp"],
    )


class EventsApi(APIView):
    """Fire-and-forget: answers 202 once the event is durably recorded, processes later."""

    permission_classes = [IsFacilitator]

    @extend_schema(
        operation_id="events_create",
        request=EventInputSerializer,
        description=(
            "One settlement event, or a JSON array of up to 500. The same (network, txHash) "
            "sent again returns the same eventId and changes nothing."
        ),
        responses={202: EventAcceptedSerializer, **ERRORS},
    )
    def post(self, request):
        batch = isinstance(request.data, list)
        if batch:
            if not request.data:
                raise serializers.ValidationError({"events": ["The batch is empty."]})
            if len(request.data) > MAX_BATCH:
                raise BatchTooLarge()
        serializer = EventInputSerializer(data=request.data, many=batch)
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data if batch else [serializer.validated_data]
        event_ids = services.ingest_events(
            facilitator_id=request.user.facilitator_id,
            items=[_event_input(item) for item in validated],
            now=clock.now(),
        )
        metrics.EVENTS_ACCEPTED.inc(len(event_ids))
        if batch:
            body = {"accepted": True, "eventIds": [str(i) for i in event_ids]}
        else:
            body = {"accepted": True, "eventId": str(event_ids[0])}
        return Response(body, status=status.HTTP_202_ACCEPTED)


def _beacon_flood(request) -> bool:
    """Too many beacons from one address: answered as usual, not counted. Fails open (a
    dead counter store must not stop impressions; money is bounded by the holds anyway)."""
    try:
        usage = get_usage(
            request, group="beacon", key="ip", rate=settings.BEACON_RATE, increment=True
        )
    except Exception:  # noqa: BLE001 - any failure of the counter store
        return False
    if usage is None or (usage["limit"] == 0 and usage["count"] == 0):  # store failed
        return False
    return usage["should_limit"]


@extend_schema(
    operation_id="track_impression",
    auth=[],
    responses={204: OpenApiResponse(description="Always, whatever the token.")},
)
@require_safe
def impression_beacon(request, token: str) -> HttpResponse:
    """Same tiny answer for valid, unknown, forged, expired and repeated tokens."""
    try:
        if _beacon_flood(request):
            logger.warning("beacon rate limit reached; not counted")
        else:
            services.record_beacon(token=token, now=clock.now())
    except DatabaseError:
        # Fail open for the client: it cannot act on our outage, and the answer must not vary.
        logger.warning("beacon not recorded: database unavailable")
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


@extend_schema(
    operation_id="track_click",
    auth=[],
    responses={
        302: OpenApiResponse(description="To the recommended resource."),
        404: ErrorSerializer,
    },
)
@require_safe
def click_redirect(request, token: str) -> HttpResponse:
    """The placement's click link: counted once (billed under cpc), then on to the resource."""
    try:
        destination = services.record_click(token=token, now=clock.now())
    except DatabaseError:
        logger.warning("click not recorded: database unavailable")
        destination = services.click_destination(token)
    if destination is None:
        return JsonResponse(error_body("not_found", "Unknown link."), status=404)
    response = HttpResponseRedirect(destination)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
