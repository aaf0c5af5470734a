"""Serializers of POST /v1/events (wire-contract §5, camelCase as facilitators send it)."""

import datetime as dt

from rest_framework import serializers

from adnet.core import networks
from campaigns.api import fields

# A settlement reported as happening this far in the future is a broken clock, not a fact.
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)


class EventResourceSerializer(serializers.Serializer):
    url = fields.ResourceUrlField()
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, default=""
    )
    mimeType = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class EventInputSerializer(serializers.Serializer):
    """Unknown fields are ignored: facilitators may send more than this network reads."""

    txHash = serializers.RegexField(
        r"^(0x)?[0-9A-Za-z]{16,128}$",
        error_messages={"invalid": "Must be a transaction hash (hex or base58)."},
    )
    network = fields.NetworkField()
    resource = EventResourceSerializer()
    payer = serializers.CharField(max_length=128)
    settledAmount = fields.SettledAmountField()
    campaignId = serializers.UUIDField(required=False, allow_null=True)
    impressionToken = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=256
    )
    timestamp = serializers.DateTimeField()

    def validate(self, attrs):
        try:
            attrs["payer"] = networks.normalize_address(attrs["network"], attrs["payer"])
        except networks.AddressError as exc:
            raise serializers.ValidationError({"payer": [str(exc)]}) from exc
        if attrs["timestamp"] > dt.datetime.now(dt.UTC) + MAX_CLOCK_SKEW:
            raise serializers.ValidationError({"timestamp": ["Must not be in the future."]})
        return attrs


class EventAcceptedSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    eventId = serializers.UUIDField(required=False, help_text="For a single event.")
    eventIds = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        help_text="For a batch (a JSON array): the eventIds in the order sent.",
    )
