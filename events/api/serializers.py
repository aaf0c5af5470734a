"""Serializers of POST /v1/events (wire-contract §5, camelCase as facilitators send it)."""

import datetime as dt

from rest_framework import serializers

from adnet.core import networks
from campaigns.api import fields
from campaigns.api.fields import column_length
from events.models import SettlementEvent

# A settlement reported as happening this far in the future is a broken clock, not a fact.
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)


def _length(field: str) -> int:
    return column_length(SettlementEvent, field)


class EventResourceSerializer(serializers.Serializer):
    url = fields.ResourceUrlField(max_length=_length("resource_url"))
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=_length("resource_description"), default=""
    )
    mimeType = serializers.CharField(
        required=False, allow_blank=True, max_length=_length("resource_mime_type"), default=""
    )


class EventInputSerializer(serializers.Serializer):
    """Unknown fields are ignored: facilitators may send more than this network reads."""

    txHash = fields.TxHashField(max_length=_length("tx_hash"))
    network = fields.NetworkField(max_length=_length("network"))
    resource = EventResourceSerializer()
    payer = serializers.CharField(max_length=_length("payer"))
    settledAmount = fields.SettledAmountField()
    campaignId = serializers.UUIDField(required=False, allow_null=True)
    impressionToken = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=_length("impression_token")
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
