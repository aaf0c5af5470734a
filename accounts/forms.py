"""Admin forms in words a non-engineer can act on: USDC amounts, readable networks, patterns."""

import datetime as dt
import re
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from adnet.core import clock, networks
from adnet.core.money import AmountError, format_usdc, parse_usdc, usdc_text
from campaigns import validation
from campaigns.matching import patterns
from campaigns.models import Advertiser, Campaign
from facilitators.models import ApiKey, Facilitator
from reports.forms import DAY_INPUT, FIRST_DAY, LAST_DAY, DayRangeForm

NETWORK_CHOICES = [(caip2, f"{name} ({caip2})") for caip2, name in networks.KNOWN_NETWORKS.items()]
TRANSPORT_CHOICES = [
    ("http", "HTTP (paid web APIs)"),
    ("mcp", "MCP (tools of AI agents)"),
    ("a2a", "A2A (agent-to-agent)"),
]


class UsdcField(forms.CharField):
    """An amount typed in USDC ("2.50"), cleaned to atomic units (2500000)."""

    def __init__(self, *, minimum: int = 1, **kwargs):
        self.minimum = minimum
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 14}))
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return format_usdc(value)
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            amount = parse_usdc(value)
        except AmountError as exc:
            raise ValidationError(str(exc), code="invalid") from exc
        if amount < self.minimum:
            raise ValidationError(f"Must be at least {usdc_text(self.minimum)}.", code="min_value")
        return amount


class LinesField(forms.CharField):
    """A list typed one item per line (commas also separate), repeats dropped."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.validators.append(validation.validate_list_length)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        items = [item.strip() for item in re.split(r"[\n,]", value or "")]
        return list(dict.fromkeys(item for item in items if item))

    def has_changed(self, initial, data) -> bool:
        # The list, not its spelling: "" and [] are the same nothing, so an unchanged save
        # records no change.
        return self.to_python(initial) != self.to_python(data)


class CampaignForm(forms.ModelForm):
    """Every field of the campaign API. Amounts in USDC; the services still decide."""

    budget_total = UsdcField(
        label="Total budget (USDC)", help_text='The most this campaign may ever spend, e.g. "100".'
    )
    budget_daily = UsdcField(
        label="Daily budget (USDC)",
        help_text="The most it may spend in one UTC day; not more than the total budget.",
    )
    max_bid_amount = UsdcField(
        label="Bid (USDC)",
        help_text="What you pay per conversion (CPA), per click (CPC) or per thousand "
        'impressions (CPM), e.g. "2.50".',
    )
    rec_price = UsdcField(
        label="Price of the recommended resource (USDC)",
        required=False,
        minimum=0,
        help_text="Optional: what an agent pays for your resource, shown with the recommendation.",
    )
    rec_resource_url = forms.CharField(
        max_length=2048,
        validators=[validation.validate_https_url],
        label="Recommended resource URL",
        help_text="The https:// address agents are recommended to pay for.",
    )
    target_networks = forms.MultipleChoiceField(
        label="Networks",
        choices=NETWORK_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Payments on which blockchains may show this campaign. None ticked: all.",
    )
    target_networks_other = LinesField(
        label="Other networks",
        help_text='Networks not listed above, as CAIP-2 ids, one per line, e.g. "eip155:10".',
    )
    target_transports = forms.MultipleChoiceField(
        label="Transports",
        choices=TRANSPORT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="How the paid resource is reached. None ticked: all.",
    )
    target_url_patterns = LinesField(
        label="Resource URL patterns",
        help_text="Show this campaign only next to these paid URLs, one per line. "
        "* stands for any text: https://api.example.com/weather/* matches every weather "
        "endpoint of api.example.com. Empty: every URL.",
    )
    target_categories = LinesField(
        label="Categories",
        help_text='Topics of the resources to appear next to, e.g. "weather", one per line. '
        "Empty: every category.",
    )

    class Meta:
        model = Campaign
        fields = [
            "advertiser",
            "name",
            "bid_strategy",
            "max_bid_amount",
            "budget_total",
            "budget_daily",
            "pacing",
            "schedule_start",
            "schedule_end",
            "attribution_window_seconds",
            "frequency_cap",
            "target_networks",
            "target_networks_other",
            "target_transports",
            "target_url_patterns",
            "target_categories",
            "rec_resource_url",
            "rec_description",
            "rec_sponsor_name",
            "rec_bazaar_id",
            "rec_price",
            "rec_currency",
        ]
        labels = {
            "name": "Campaign name",
            "bid_strategy": "Pay for",
            "attribution_window_seconds": "Attribution window (seconds)",
            "frequency_cap": "Frequency cap",
            "rec_resource_url": "Recommended resource URL",
            "rec_description": "Recommendation text",
            "rec_sponsor_name": "Sponsor name shown",
            "rec_bazaar_id": "Bazaar id",
            "rec_currency": "Currency of the price",
        }
        help_texts = {
            "attribution_window_seconds": "How long after a recommendation a payment to your "
            "resource counts as its conversion: 60 seconds to 30 days (2592000). "
            "Default 1800 (30 minutes).",
            "frequency_cap": "At most this many recommendations per payer per UTC day "
            "(1 to 10000). Empty: the network default.",
            "rec_resource_url": "The https:// address agents are recommended to pay for.",
            "schedule_end": "Optional. The campaign stops at this time (UTC).",
            "schedule_start": "Times are UTC.",
        }

    def __init__(self, *args, advertiser_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribution_window_seconds"].validators.append(
            validation.validate_attribution_window
        )
        self.fields["frequency_cap"].validators.append(validation.validate_frequency_cap)
        if advertiser_locked:
            self.fields.pop("advertiser", None)
        if self.instance.pk:
            chosen = self.instance.target_networks or []
            self.initial["target_networks"] = [n for n in chosen if n in networks.KNOWN_NETWORKS]
            self.initial["target_networks_other"] = "\n".join(
                n for n in chosen if n not in networks.KNOWN_NETWORKS
            )
        elif not self.is_bound:
            self.initial.setdefault("schedule_start", clock.now().replace(microsecond=0))

    def clean_target_networks_other(self):
        others = self.cleaned_data.get("target_networks_other") or []
        bad = [n for n in others if not networks.is_caip2(n)]
        if bad:
            raise ValidationError(
                f"Not a network id: {', '.join(bad)}. Write CAIP-2 ids such as "
                '"eip155:8453" (Base), one per line.'
            )
        return others

    def clean_target_url_patterns(self):
        values = self.cleaned_data.get("target_url_patterns") or []
        errors = []
        for n, value in enumerate(values, start=1):
            try:
                patterns.validate(value)
            except patterns.PatternError as exc:
                errors.append(f"Pattern {n} ({value[:60]}): {exc}")
        if errors:
            raise ValidationError(errors)
        return values

    def clean_target_categories(self):
        values = self.cleaned_data.get("target_categories") or []
        validation.validate_categories(values)
        return values

    def clean(self):
        cleaned = super().clean()
        known = cleaned.get("target_networks") or []
        others = cleaned.pop("target_networks_other", None) or []
        cleaned["target_networks"] = list(dict.fromkeys([*known, *others]))
        if not cleaned.get("attribution_window_seconds"):
            cleaned["attribution_window_seconds"] = validation.DEFAULT_ATTRIBUTION_WINDOW_SECONDS
        # The API's rules, in its words. Each violated rule becomes a field error, which
        # also keeps Django from reporting the matching check constraint by its name.
        errors = validation.campaign_errors(cleaned)
        if self.instance.pk:
            today = clock.utc_day(clock.now())
            errors.update(validation.below_committed_errors(self.instance, cleaned, today))
        failed = set(self.errors)
        for field, messages in errors.items():
            if field in failed:
                continue
            self.add_error(field if field in self.fields else None, messages)
        return cleaned

    def campaign_values(self) -> dict:
        """The cleaned values as the campaign services take them."""
        return {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if name in self.cleaned_data and name not in ("advertiser", "target_networks_other")
        }


# --- Operator forms ----------------------------------------------------------------------


class IssueKeyForm(forms.Form):
    kind = forms.ChoiceField(choices=ApiKey.Kind.choices, label="Kind of key")
    facilitator = forms.ModelChoiceField(
        queryset=Facilitator.objects.all(), required=False, help_text="For a facilitator key."
    )
    advertiser = forms.ModelChoiceField(
        queryset=Advertiser.objects.all(), required=False, help_text="For an advertiser key."
    )
    name = forms.CharField(max_length=200, required=False, help_text="A note to recognise it.")

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == ApiKey.Kind.FACILITATOR and not cleaned.get("facilitator"):
            self.add_error("facilitator", "Choose the facilitator this key is for.")
        if kind == ApiKey.Kind.ADVERTISER and not cleaned.get("advertiser"):
            self.add_error("advertiser", "Choose the advertiser this key is for.")
        if kind == ApiKey.Kind.OPERATOR and not cleaned.get("name"):
            self.add_error("name", "Name operator keys, so they can be told apart.")
        return cleaned


class RegisterFacilitatorForm(forms.Form):
    name = forms.CharField(max_length=200)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Facilitator.objects.filter(name=name).exists():
            raise ValidationError("A facilitator with this name already exists.")
        return name


# --- Dashboard and preview ---------------------------------------------------------------


class DashboardForm(DayRangeForm):
    """The dashboard's days, by the reports' one rule (the last 14 days by default), and the
    drill-down: one of the advertiser's own campaigns, with its hours on one day."""

    default_days = 14

    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        label="Campaign",
        empty_label="all my campaigns",
    )
    day = forms.DateField(
        required=False,
        validators=[MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)],
        label="Hours of (UTC day)",
        widget=forms.DateInput(attrs=DAY_INPUT),
        help_text="One campaign's figures by hour; default: the range's last day.",
    )

    def __init__(self, data=None, *, campaigns, now: dt.datetime | None = None, **kwargs):
        super().__init__(data, now=now, **kwargs)
        # Only the signed-in advertiser's campaigns: any other id is an invalid choice.
        self.fields["campaign"].queryset = campaigns.order_by("name", "id")

    def clean(self):
        data = super().clean()
        if not self.errors:
            data["day"] = data.get("day") or min(self.today, data["end"] - dt.timedelta(days=1))
        return data

    def show_effective_range(self) -> None:
        super().show_effective_range()
        self.data["day"] = self.cleaned_data["day"].isoformat()


class PreviewForm(forms.Form):
    resource_url = forms.CharField(
        max_length=2048,
        label="Resource URL",
        help_text="The paid URL an agent is paying for, e.g. https://api.example.com/weather",
    )
    network = forms.ChoiceField(choices=NETWORK_CHOICES, initial="eip155:8453")
    network_other = forms.CharField(
        required=False, label="…or another network", help_text='A CAIP-2 id, e.g. "eip155:10".'
    )
    transport = forms.ChoiceField(choices=TRANSPORT_CHOICES)

    def clean_resource_url(self):
        value = self.cleaned_data["resource_url"].strip()
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:  # e.g. an unclosed IPv6 bracket
            parts, host = None, None
        if parts is None or any(c.isspace() for c in value) or not parts.netloc:
            raise ValidationError("Enter a full address, e.g. https://api.example.com/weather.")
        if parts.scheme.lower() != "https" or not host:
            # Refused as a campaign's own resource URL is: a paid resource is an https address.
            raise ValidationError(
                "Must be an https:// address, e.g. https://api.example.com/weather."
            )
        return value

    def clean(self):
        cleaned = super().clean()
        other = (cleaned.get("network_other") or "").strip()
        if other:
            if not networks.is_caip2(other):
                self.add_error("network_other", 'Not a network id; e.g. "eip155:10".')
            else:
                cleaned["network"] = other
        return cleaned
