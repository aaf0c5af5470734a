"""Serializers of POST /v1/conversions (camelCase, like the other facilitator calls)."""

import datetime as dt

from rest_framework import serializers

from adnet.core import networks
from billing.models import Conversion, ConversionReport
from campaigns.api import fields
from campaigns.api.fields import column_length


class ConversionInputSerializer(serializers.Serializer):
    """Text is bounded by the columns it is stored in: the report's hashes and network,
    the conversion's payer and resource."""

    originalTxHash = fields.TxHashField(
        max_length=column_length(ConversionReport, "original_tx_hash")
    )
    conversionTxHash = fields.TxHashField(
        max_length=column_length(ConversionReport, "conversion_tx_hash")
    )
    network = fields.NetworkField(max_length=column_length(ConversionReport, "network"))
    payer = serializers.CharField(max_length=column_length(Conversion, "payer"))
    resourceUrl = fields.ResourceUrlField(max_length=column_length(Conversion, "resource_url"))
    settledAmount = fields.SettledAmountField()
    timestamp = serializers.DateTimeField()
    # Decoded, never stored: bounded like the events' column that does store one.
    impressionToken = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=256
    )

    def validate(self, attrs):
        try:
            attrs["payer"] = networks.normalize_address(attrs["network"], attrs["payer"])
        except networks.AddressError as exc:
            raise serializers.ValidationError({"payer": [str(exc)]}) from exc
        if attrs["timestamp"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10):
            raise serializers.ValidationError({"timestamp": ["Must not be in the future."]})
        return attrs


class ConversionAcceptedSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    reportId = serializers.UUIDField()
