"""Serializers of POST /v1/conversions (camelCase, like the other facilitator calls)."""

import datetime as dt

from rest_framework import serializers

from adnet.core import networks
from campaigns.api import fields

TX_HASH = r"^(0x)?[0-9A-Za-z]{16,128}$"
TX_HASH_ERRORS = {"invalid": "Must be a transaction hash (hex or base58)."}


class ConversionInputSerializer(serializers.Serializer):
    originalTxHash = serializers.RegexField(TX_HASH, error_messages=TX_HASH_ERRORS)
    conversionTxHash = serializers.RegexField(TX_HASH, error_messages=TX_HASH_ERRORS)
    network = fields.NetworkField()
    payer = serializers.CharField(max_length=128)
    resourceUrl = fields.ResourceUrlField()
    settledAmount = fields.SettledAmountField()
    timestamp = serializers.DateTimeField()
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
