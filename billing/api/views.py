"""POST /v1/conversions: a facilitator reports a conversion with both transaction hashes."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from adnet.core import clock
from billing import services
from billing.api.serializers import ConversionAcceptedSerializer, ConversionInputSerializer
from campaigns.api.serializers import ErrorSerializer
from facilitators.api.permissions import IsFacilitator

ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 409, 413, 415, 429, 503)}


class ConversionsApi(APIView):
    permission_classes = [IsFacilitator]

    @extend_schema(
        operation_id="conversions_create",
        request=ConversionInputSerializer,
        description=(
            "Report that a payer who received a recommendation paid for the recommended "
            "resource. Checked against the same rules as the network's own attribution. "
            "The same (network, conversionTxHash) again returns the same answer; with a "
            "different body it is a 409. Invalid reports get the normal answer."
        ),
        responses={202: ConversionAcceptedSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = ConversionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = services.report_conversion(
            facilitator_id=request.user.facilitator_id,
            report=services.ConversionInput(
                original_tx_hash=data["originalTxHash"],
                conversion_tx_hash=data["conversionTxHash"],
                network=data["network"],
                payer=data["payer"],
                resource_url=data["resourceUrl"],
                settled_amount=data["settledAmount"],
                occurred_at=data["timestamp"],
                impression_token=data.get("impressionToken") or "",
            ),
            now=clock.now(),
        )
        return Response(
            {"accepted": True, "reportId": str(report.id)}, status=status.HTTP_202_ACCEPTED
        )
