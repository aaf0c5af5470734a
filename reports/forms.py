"""The filter every report takes: UTC days [start, end) and optional narrowing."""

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from adnet.core import clock, networks
from campaigns.models import Advertiser, Campaign
from facilitators.models import Facilitator
from reports.selectors import ReportFilter

MAX_DAYS = 366
DEFAULT_DAYS = 30
# The days a report may name: their bounds, a day either side and the default start stay
# within what dates and timestamps can hold.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)
DAY_INPUT = {"type": "date", "min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()}


class CampaignChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Campaign) -> str:
        return f"{obj.name} ({obj.advertiser.name})"


class DayRangeForm(forms.Form):
    """UTC days [start, end): the one rule for a reporting range, shared by the operator
    reports and the advertiser dashboard. Blank ends take defaults; a reversed, empty or
    over-long range is refused with an error on the field, never silently corrected."""

    default_days = DEFAULT_DAYS

    start = forms.DateField(
        required=False,
        validators=[MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)],
        label="From (UTC day)",
        widget=forms.DateInput(attrs=DAY_INPUT),
    )
    end = forms.DateField(
        required=False,
        validators=[MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)],
        label="Before (UTC day, not included)",
        widget=forms.DateInput(attrs=DAY_INPUT),
        help_text="Default: tomorrow, so today is included.",
    )

    def __init__(self, data=None, *, now: dt.datetime | None = None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)
        self.today = clock.utc_day(now or clock.now())
        self.fields["start"].help_text = f"Default: {self.default_days} days ago."

    def clean(self):
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        end = data.get("end") or self.today + dt.timedelta(days=1)
        start = data.get("start") or end - dt.timedelta(days=self.default_days)
        if start >= end:
            self.add_error("end", "Must be after the start day.")
        elif (end - start).days > MAX_DAYS:
            self.add_error("start", f"At most {MAX_DAYS} days at once.")
        data["start"], data["end"] = start, end
        return data

    def show_effective_range(self) -> None:
        """Let the page show the days the defaults chose, not empty date inputs."""
        data = self.data.copy()
        data["start"] = self.cleaned_data["start"].isoformat()
        data["end"] = self.cleaned_data["end"].isoformat()
        self.data = data

    def error_details(self) -> dict[str, list[str]]:
        """Errors keyed by field, the API's `details` shape (non-field under `non_field_errors`)."""
        return {
            ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
            for name, messages in self.errors.items()
        }


class ReportFilterForm(DayRangeForm):
    campaign_id = CampaignChoice(
        queryset=Campaign.objects.select_related("advertiser").order_by("name", "id"),
        required=False,
        label="Campaign",
        empty_label="all",
    )
    advertiser_id = forms.ModelChoiceField(
        queryset=Advertiser.objects.order_by("name", "id"),
        required=False,
        label="Advertiser",
        empty_label="all",
    )
    facilitator_id = forms.ModelChoiceField(
        queryset=Facilitator.objects.order_by("name", "id"),
        required=False,
        label="Facilitator",
        empty_label="all",
    )
    network = forms.CharField(
        required=False,
        max_length=64,
        label="Network",
        widget=forms.TextInput(attrs={"list": "report-networks", "placeholder": "any (CAIP-2)"}),
    )
    transport = forms.ChoiceField(
        required=False,
        choices=[("", "any"), *((t, t) for t in networks.TRANSPORTS)],
        label="Transport",
    )

    def clean_network(self) -> str:
        network = self.cleaned_data["network"].strip()
        if network and not networks.is_caip2(network):
            raise forms.ValidationError("Must be a CAIP-2 network, e.g. eip155:8453.")
        return network

    def report_filter(self) -> ReportFilter:
        data = self.cleaned_data
        return ReportFilter(
            start=data["start"],
            end=data["end"],
            campaign_id=data["campaign_id"].id if data.get("campaign_id") else None,
            advertiser_id=data["advertiser_id"].id if data.get("advertiser_id") else None,
            facilitator_id=data["facilitator_id"].id if data.get("facilitator_id") else None,
            network=data.get("network") or "",
            transport=data.get("transport") or "",
        )
