"""Input and output serializers of the campaign and match APIs (wire-contract §2 and §7)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from adnet.core import json_body
from campaigns import validation
from campaigns.api import fields, match_input
from campaigns.api.fields import column_length
from campaigns.models import MAX_ATTRIBUTION_WINDOW_SECONDS, Advertiser, Campaign


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a misspelt optional field is an error, not ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


# --- Errors ------------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable machine-readable code, e.g. validation_error (a field's value; text "
        "longer than its column is refused, never cut), or malformed_body: not JSON, or "
        "holding what cannot be stored (a lone surrogate or NUL in any string or key, "
        f"nesting deeper than {json_body.MAX_DEPTH} arrays and objects)."
    )
    message = serializers.CharField(help_text="What went wrong, for a person.")
    details = serializers.JSONField(
        allow_null=True,
        help_text="For validation errors: the messages of each invalid field; for a refused "
        "body, the place in it (a field, `resource.url`, `[3].txHash`).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- Advertisers -------------------------------------------------------------------------


class AdvertiserInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=column_length(Advertiser, "name"))
    wallet_address = serializers.CharField(max_length=column_length(Advertiser, "wallet_address"))
    network = fields.NetworkField(max_length=column_length(Advertiser, "network"))

    def validate(self, attrs):
        try:
            attrs["wallet_address"] = validation.normalized_wallet(
                attrs["network"], attrs["wallet_address"]
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"wallet_address": exc.messages}) from exc
        return attrs


class AdvertiserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    wallet_address = serializers.CharField()
    network = serializers.CharField()
    created_at = serializers.DateTimeField()


class AdvertiserListSerializer(serializers.Serializer):
    advertisers = AdvertiserOutputSerializer(many=True)
    count = serializers.IntegerField()


# --- Campaigns ---------------------------------------------------------------------------


class CampaignInputSerializer(StrictSerializer):
    advertiser_id = serializers.UUIDField()
    name = serializers.CharField(max_length=column_length(Campaign, "name"))
    budget_total = fields.AtomicAmountField(minimum=1, help_text="Atomic units, digits only.")
    budget_daily = fields.AtomicAmountField(minimum=1, help_text="Atomic units, digits only.")
    max_bid_amount = fields.AtomicAmountField(
        minimum=1,
        help_text="The price: per conversion (cpa), click (cpc) or thousand impressions (cpm).",
    )
    schedule_start = serializers.DateTimeField()
    schedule_end = serializers.DateTimeField(required=False, allow_null=True)
    rec_resource_url = fields.HttpsUrlField(max_length=column_length(Campaign, "rec_resource_url"))
    rec_description = serializers.CharField(max_length=column_length(Campaign, "rec_description"))
    rec_sponsor_name = serializers.CharField(max_length=column_length(Campaign, "rec_sponsor_name"))
    rec_bazaar_id = serializers.CharField(
        max_length=column_length(Campaign, "rec_bazaar_id"), required=False, allow_blank=True
    )
    rec_price = fields.AtomicAmountField(required=False, allow_null=True)
    rec_currency = serializers.CharField(
        max_length=column_length(Campaign, "rec_currency"), required=False, allow_blank=True
    )
    bid_strategy = serializers.ChoiceField(choices=Campaign.BidStrategy.values, required=False)
    pacing = serializers.ChoiceField(choices=Campaign.Pacing.values, required=False)
    attribution_window_seconds = serializers.IntegerField(
        min_value=validation.MIN_ATTRIBUTION_WINDOW_SECONDS,
        max_value=MAX_ATTRIBUTION_WINDOW_SECONDS,
        required=False,
    )
    frequency_cap = serializers.IntegerField(
        min_value=validation.MIN_FREQUENCY_CAP,
        max_value=validation.MAX_FREQUENCY_CAP,
        required=False,
        allow_null=True,
        help_text="Placements per payer per UTC day; null for the network default.",
    )
    target_categories = fields.CategoryListField()
    target_networks = fields.NetworkListField()
    target_transports = fields.TransportListField()
    target_url_patterns = fields.UrlPatternListField()


class CampaignUpdateSerializer(CampaignInputSerializer):
    """Every campaign field may change except its advertiser; send only what changes."""

    advertiser_id = None

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class CampaignOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    advertiser_id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Campaign.Status.values)
    bid_strategy = serializers.ChoiceField(choices=Campaign.BidStrategy.values)
    pacing = serializers.ChoiceField(choices=Campaign.Pacing.values)
    budget_total = fields.AtomicAmountField()
    budget_daily = fields.AtomicAmountField()
    max_bid_amount = fields.AtomicAmountField()
    attribution_window_seconds = serializers.IntegerField()
    frequency_cap = serializers.IntegerField(allow_null=True)
    target_categories = serializers.ListField(child=serializers.CharField())
    target_networks = serializers.ListField(child=serializers.CharField())
    target_transports = serializers.ListField(child=serializers.CharField())
    target_url_patterns = serializers.ListField(child=serializers.CharField())
    schedule_start = serializers.DateTimeField()
    schedule_end = serializers.DateTimeField(allow_null=True)
    rec_resource_url = serializers.CharField()
    rec_description = serializers.CharField()
    rec_sponsor_name = serializers.CharField()
    rec_bazaar_id = serializers.CharField(allow_blank=True)
    rec_price = fields.AtomicAmountField(allow_null=True)
    rec_currency = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CampaignListSerializer(serializers.Serializer):
    campaigns = CampaignOutputSerializer(many=True)
    count = serializers.IntegerField()


# --- Match (camelCase, as the facilitators send it) ---------------------------------------


class MatchInputSerializer(serializers.Serializer):
    """The match body as the schema declares it. Its one validation is match_input.parse,
    which both ways in (the WSGI fast path and MatchApi) call: so does this serializer."""

    resourceUrl = fields.ResourceUrlField(max_length=match_input.URL_LENGTH)
    resourceDescription = serializers.CharField(
        required=False, allow_blank=True, max_length=match_input.DESCRIPTION_LENGTH, default=""
    )
    network = fields.NetworkField(max_length=match_input.NETWORK_LENGTH)
    payerWallet = serializers.CharField(max_length=match_input.PAYER_LENGTH)
    settledAmount = fields.SettledAmountField()
    transport = serializers.ChoiceField(
        choices=match_input.TRANSPORTS, required=False, default="http"
    )
    txHash = fields.TxHashField(
        max_length=match_input.TX_HASH_LENGTH, required=False, allow_blank=True, default=""
    )

    def to_internal_value(self, data):
        try:
            return match_input.parse(data)
        except match_input.Invalid as exc:
            raise serializers.ValidationError(exc.details) from exc


class RecommendationSerializer(serializers.Serializer):
    resourceUrl = serializers.CharField()
    description = serializers.CharField()
    sponsor = serializers.CharField()
    bazaarId = serializers.CharField(required=False)
    price = serializers.CharField(required=False, help_text="Atomic units.")
    currency = serializers.CharField(required=False)


class MatchTrackingSerializer(serializers.Serializer):
    clickUrl = serializers.URLField(
        help_text="Ours: a link to the recommended resource that counts the click (cpc)."
    )


class MatchOutputSerializer(serializers.Serializer):
    """`{"matched": false}` when nothing matched; every other field only on a match."""

    matched = serializers.BooleanField()
    campaignId = serializers.UUIDField(required=False)
    recommendation = RecommendationSerializer(required=False)
    impressionBeacon = serializers.URLField(required=False)
    conversionResource = serializers.CharField(required=False)
    impressionToken = serializers.CharField(required=False)
    tracking = MatchTrackingSerializer(required=False)
    explain = serializers.BooleanField(required=False, help_text="Only with ?explain=1.")
    winner = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Only with ?explain=1: the campaign that would win.",
    )
    candidates = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Only with ?explain=1: each campaign considered, its exclusion reason "
        "(null if eligible), expected rate, score, budget and frequency state.",
    )
    notConsidered = serializers.IntegerField(
        required=False,
        help_text="Only with ?explain=1: live campaigns whose URL patterns did not match.",
    )
