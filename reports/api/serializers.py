"""Output serializers of the read-only report API (GET /v1/reports/...).

Amounts are millis (1/1000 of an atomic unit) as digit strings, exact, with the same
amount in USDC as a decimal string for people; counts are integers; rates are fractions.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports import formatting


@extend_schema_field({"type": "string", "pattern": "^(0|[1-9][0-9]*)$", "example": "1500000"})
class MillisField(serializers.Field):
    """Millis as a string of digits: exact at any size, unlike a JSON number."""

    def to_representation(self, value):
        return str(int(value))


@extend_schema_field({"type": "string", "example": "1.5"})
class UsdcField(serializers.Field):
    """Millis shown as USDC (6 decimals), a decimal string with no rounding."""

    def to_representation(self, value):
        return formatting.usdc(int(value))


class MeasuresSerializer(serializers.Serializer):
    match_requests = serializers.IntegerField()
    matches_answered = serializers.IntegerField()
    matches_unanswered = serializers.IntegerField()
    fill_rate = serializers.FloatField(
        allow_null=True,
        help_text="answered / match requests; null when narrowed to campaigns or no requests.",
    )
    placements = serializers.IntegerField()
    deliveries = serializers.IntegerField(help_text="Placements whose settlement event arrived.")
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()
    settlement_events = serializers.IntegerField()
    billed_millis = MillisField()
    billed_usdc = UsdcField(source="billed_millis")
    unbilled_millis = MillisField()
    unbilled_usdc = UsdcField(source="unbilled_millis")


class TotalsSerializer(MeasuresSerializer):
    invalid_traffic = serializers.IntegerField()


class DaySerializer(TotalsSerializer):
    day = serializers.DateField()


class TopCampaignSerializer(MeasuresSerializer):
    campaign_id = serializers.UUIDField()
    campaign_name = serializers.CharField()
    advertiser_name = serializers.CharField()


class FacilitatorRowSerializer(TotalsSerializer):
    facilitator_id = serializers.UUIDField()
    facilitator_name = serializers.CharField()
    delivery_rate = serializers.FloatField(allow_null=True)


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class LastRebuildSerializer(serializers.Serializer):
    day = serializers.DateField()
    finished_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    traffic_rows = serializers.IntegerField()
    invalid_rows = serializers.IntegerField()


class RollupStatusSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="lag_seconds is at most max_lag_seconds.")
    lag_seconds = serializers.FloatField(
        allow_null=True, help_text="How far today's rollups are behind the raw rows."
    )
    max_lag_seconds = serializers.IntegerField()
    fresh_until = serializers.DateTimeField(
        allow_null=True, help_text="Every raw row of today before this is in the rollups."
    )
    last_rebuild = LastRebuildSerializer(allow_null=True)


class DifferenceSerializer(serializers.Serializer):
    day = serializers.DateField()
    measure = serializers.CharField()
    rollup = serializers.IntegerField()
    raw = serializers.IntegerField()


class RollupCheckSerializer(serializers.Serializer):
    ran_at = serializers.DateTimeField()
    start = serializers.DateField()
    end = serializers.DateField()
    days_checked = serializers.IntegerField()
    ok = serializers.BooleanField()
    differences = DifferenceSerializer(many=True)
    rebuilt = serializers.ListField(child=serializers.DateField())
    remaining = DifferenceSerializer(many=True)


class LedgerCheckSerializer(serializers.Serializer):
    ran_at = serializers.DateTimeField()
    campaigns_checked = serializers.IntegerField()
    ok = serializers.BooleanField()
    mismatches = serializers.ListField(child=serializers.DictField())


class ChecksSerializer(serializers.Serializer):
    rollups = RollupCheckSerializer(allow_null=True)
    ledger = LedgerCheckSerializer(allow_null=True)


class NetworkLossSerializer(serializers.Serializer):
    lost_placements = serializers.IntegerField(
        help_text="Placements answered but never written (lost with Redis, or set aside)."
    )
    journal_set_aside = serializers.IntegerField(
        help_text="Match journal records that could not be written (see the admin)."
    )


class OverviewSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Not included: the range is [start, end).")
    totals = TotalsSerializer()
    days = DaySerializer(many=True)
    top_campaigns = TopCampaignSerializer(many=True)
    top_facilitators = FacilitatorRowSerializer(many=True)
    invalid_by_reason = ReasonCountSerializer(many=True)
    network_loss = NetworkLossSerializer()
    rollups = RollupStatusSerializer()
    checks = ChecksSerializer()


class TrafficRowSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Start of the UTC day or hour.")
    campaign_id = serializers.UUIDField(allow_null=True)
    campaign_name = serializers.CharField(allow_null=True)
    facilitator_id = serializers.UUIDField()
    facilitator_name = serializers.CharField()
    network = serializers.CharField()
    transport = serializers.CharField()
    matches_answered = serializers.IntegerField()
    matches_unanswered = serializers.IntegerField()
    placements = serializers.IntegerField()
    deliveries = serializers.IntegerField()
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversions = serializers.IntegerField()
    settlement_events = serializers.IntegerField()
    billed_millis = MillisField()
    unbilled_millis = MillisField()


class ConversionRowSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    converted_at = serializers.DateTimeField()
    matched_at = serializers.DateTimeField()
    seconds_to_convert = serializers.IntegerField()
    campaign_id = serializers.UUIDField()
    campaign_name = serializers.CharField()
    advertiser_name = serializers.CharField()
    facilitator_id = serializers.UUIDField(
        help_text="The facilitator that delivered the placement."
    )
    facilitator_name = serializers.CharField()
    converting_facilitator_id = serializers.UUIDField(allow_null=True)
    converting_facilitator_name = serializers.CharField()
    network = serializers.CharField()
    transport = serializers.CharField()
    payer = serializers.CharField()
    original_tx_hash = serializers.CharField()
    original_tx_url = serializers.CharField(help_text="Block explorer; empty if unknown.")
    conversion_tx_hash = serializers.CharField()
    conversion_tx_url = serializers.CharField(help_text="Block explorer; empty if unknown.")
    status = serializers.CharField()
    source = serializers.CharField()
    placement_id = serializers.UUIDField()
    billed_millis = MillisField(help_text="What the placement was billed in all.")
    billed_usdc = UsdcField(source="billed_millis")


class PlacementRowSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    matched_at = serializers.DateTimeField()
    campaign_id = serializers.UUIDField()
    campaign_name = serializers.CharField()
    facilitator_id = serializers.UUIDField()
    facilitator_name = serializers.CharField()
    network = serializers.CharField()
    transport = serializers.CharField()
    payer = serializers.CharField()
    bid_strategy = serializers.CharField()
    state = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    impression_at = serializers.DateTimeField(allow_null=True)
    clicked_at = serializers.DateTimeField(allow_null=True)
    price_millis = MillisField()
    billed_millis = MillisField()


class InvalidRowSerializer(serializers.Serializer):
    reason = serializers.CharField()
    source = serializers.CharField()
    facilitator_id = serializers.UUIDField(allow_null=True)
    facilitator_name = serializers.CharField(allow_null=True)
    campaign_id = serializers.UUIDField(allow_null=True)
    campaign_name = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class TrafficListSerializer(serializers.Serializer):
    traffic = TrafficRowSerializer(many=True)
    count = serializers.IntegerField()


class ConversionListSerializer(serializers.Serializer):
    conversions = ConversionRowSerializer(many=True)
    count = serializers.IntegerField()


class PlacementListSerializer(serializers.Serializer):
    placements = PlacementRowSerializer(many=True)
    count = serializers.IntegerField()


class FacilitatorListSerializer(serializers.Serializer):
    facilitators = FacilitatorRowSerializer(many=True)
    count = serializers.IntegerField()


class InvalidListSerializer(serializers.Serializer):
    invalid_traffic = InvalidRowSerializer(many=True)
    count = serializers.IntegerField()
