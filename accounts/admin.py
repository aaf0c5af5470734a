"""The admin for advertisers and operators: campaigns scoped to the signed-in advertiser,
their dashboard and match preview, and the operators' key issuance.

Isolation is in querysets and object permissions: an advertiser user's campaign queryset
holds only their advertiser's rows, so another's campaign is a 404 whatever the URL.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from accounts import dashboard, selectors
from accounts.forms import (
    CampaignForm,
    DashboardForm,
    IssueKeyForm,
    PreviewForm,
    RegisterFacilitatorForm,
)
from accounts.models import AdvertiserMembership
from adnet.core import clock
from adnet.core.api_errors import error_body
from adnet.core.errors import AdnetError, ValidationFailed
from adnet.core.money import millis_usdc_text, usdc_text
from campaigns import services as campaign_services
from campaigns.errors import BudgetBelowCommitted
from campaigns.models import Campaign
from facilitators import services as facilitator_services
from facilitators.admin import ApiKeyAdmin, FacilitatorAdmin
from facilitators.models import ApiKey, Facilitator
from reports.exports import csv_response


@admin.register(AdvertiserMembership)
class AdvertiserMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "advertiser", "created_at")
    search_fields = ("user__username", "advertiser__name")
    autocomplete_fields = ("advertiser",)
    raw_id_fields = ("user",)


# --- Campaigns -----------------------------------------------------------------------------


class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = (
        "campaign",
        "status",
        "bid",
        "today_spend",
        "total_spend",
        "pace",
        "placements",
        "ctr",
        "conversions",
        "cost_per_conversion",
    )
    list_filter = ("status", "bid_strategy")
    search_fields = ("name",)
    readonly_fields = ("status", "spent", "created_at", "updated_at")
    actions = ["activate", "pause", "duplicate"]
    change_list_template = "accounts/campaign_change_list.html"
    change_form_template = "accounts/campaign_change_form.html"
    fieldsets = (
        (None, {"fields": ("advertiser", "name", "status")}),
        (
            "Price and budget",
            {
                "fields": (
                    "bid_strategy",
                    "max_bid_amount",
                    "budget_total",
                    "budget_daily",
                    "pacing",
                    "spent",
                )
            },
        ),
        ("Schedule", {"fields": ("schedule_start", "schedule_end")}),
        (
            "Targeting",
            {
                "fields": (
                    "target_networks",
                    "target_networks_other",
                    "target_transports",
                    "target_url_patterns",
                    "target_categories",
                    "frequency_cap",
                    "attribution_window_seconds",
                )
            },
        ),
        (
            "Recommendation shown to agents",
            {
                "fields": (
                    "rec_resource_url",
                    "rec_description",
                    "rec_sponsor_name",
                    "rec_bazaar_id",
                    "rec_price",
                    "rec_currency",
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(field.widget, AdminSplitDateTime):
            # Django's split date and time inputs have no label of their own; name each one.
            label = capfirst(db_field.verbose_name)
            date, time = field.widget.widgets
            date.attrs["aria-label"] = f"{label}: date"
            time.attrs["aria-label"] = f"{label}: time"
        return field

    @admin.display(description="Spent")
    def spent(self, obj: Campaign) -> str:
        return millis_usdc_text(obj.spent_millis)

    # The list: delivery against budget, read for the page's campaigns in one query.

    @admin.display(description="Campaign", ordering="name")
    def campaign(self, obj: Campaign) -> str:
        # Operators see every advertiser's campaigns: the advertiser goes under the name,
        # not in a column of its own, so the list stays readable on a laptop.
        if not obj.advertiser_shown:
            return obj.name
        return format_html('{}<div class="quiet">{}</div>', obj.name, obj.advertiser.name)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        figures = selectors.campaign_figures([row.pk for row in rows])
        now = clock.now()
        operator = selectors.tenant_of(request.user).is_operator
        for row in rows:
            row.advertiser_shown = operator
            row.figures = figures.get(row.pk, selectors.CampaignFigures())
            row.pace = selectors.pace_of(row, now)
        return changelist

    @admin.display(description="Bid", ordering="max_bid_amount")
    def bid(self, obj: Campaign) -> str:
        return format_html(
            '{}<div class="quiet">{}</div>',
            usdc_text(obj.max_bid_amount),
            obj.get_bid_strategy_display(),
        )

    @admin.display(description="Spent today")
    def today_spend(self, obj: Campaign) -> str:
        return format_html(
            '{}<div class="quiet">of {}</div>',
            millis_usdc_text(obj.pace.spent_today_millis),
            usdc_text(obj.budget_daily),
        )

    @admin.display(description="Spent in total", ordering="spent_millis")
    def total_spend(self, obj: Campaign) -> str:
        return format_html(
            '{}<div class="quiet">of {}</div>',
            millis_usdc_text(obj.spent_millis),
            usdc_text(obj.budget_total),
        )

    @admin.display(description="Pacing")
    def pace(self, obj: Campaign) -> str:
        if obj.pace.state == "not running":
            return "Not running"
        return format_html(
            '{}<div class="quiet">{} of daily budget</div>',
            obj.pace.state.capitalize(),
            f"{obj.pace.share_of_daily:.0%}",
        )

    @admin.display(description="Placements")
    def placements(self, obj: Campaign) -> int:
        return obj.figures.placements

    @admin.display(description="CTR")
    def ctr(self, obj: Campaign) -> str:
        return "-" if obj.figures.ctr is None else f"{obj.figures.ctr:.1%}"

    @admin.display(description="Conversions")
    def conversions(self, obj: Campaign) -> int:
        return obj.figures.conversions

    @admin.display(description="Cost / conversion")
    def cost_per_conversion(self, obj: Campaign) -> str:
        cost = obj.figures.cost_per_conversion_millis
        return "-" if cost is None else millis_usdc_text(cost)

    # Scope and permissions: the tenant decides, not model permissions.

    def get_queryset(self, request):
        return selectors.campaigns_of(selectors.tenant_of(request.user))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such campaign.")
        return obj

    def _allowed(self, request, obj=None) -> bool:
        tenant = selectors.tenant_of(request.user)
        if obj is None:
            return tenant.is_operator or tenant.is_advertiser
        return tenant.owns(obj.advertiser_id)

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Campaigns with placements are kept for the ledger; pause or complete them instead.
        return False

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if selectors.tenant_of(request.user).is_operator:
            return fieldsets
        first = fieldsets[0][1]["fields"]
        return (
            (None, {"fields": tuple(f for f in first if f != "advertiser")}),
            *fieldsets[1:],
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        tenant = selectors.tenant_of(request.user)
        form = super().get_form(request, obj, change, **kwargs)
        locked = not tenant.is_operator

        class ScopedForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, advertiser_locked=locked, **kw)
                if "advertiser" in self.fields:
                    self.fields["advertiser"].queryset = selectors.advertisers_of(tenant)
                    if obj is not None:
                        self.fields["advertiser"].disabled = True
                if locked and not self.instance.pk:
                    self.instance.advertiser_id = tenant.advertiser_id

        return ScopedForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BudgetBelowCommitted:
            # Spend committed between the form's check and the write: once more, so the form
            # sees it and says the new minimum beside the values as typed.
            pass
        except AdnetError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except AdnetError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def log_change(self, request, obj, message):
        # History holds real changes only: a save that changed nothing is not an event.
        if not message:
            return None
        return super().log_change(request, obj, message)

    def save_model(self, request, obj, form, change):
        values = form.campaign_values()
        if not change:
            tenant = selectors.tenant_of(request.user)
            advertiser_id = (
                form.cleaned_data["advertiser"].pk if tenant.is_operator else tenant.advertiser_id
            )
            created = campaign_services.create_campaign(advertiser_id=advertiser_id, values=values)
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        current = Campaign.objects.get(pk=obj.pk)
        changes = {k: v for k, v in values.items() if getattr(current, k) != v}
        campaign_services.update_campaign(campaign=current, changes=changes)
        obj.refresh_from_db()

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return super().construct_change_message(request, form, formsets, add)
        # Who and when are on the LogEntry; what is each changed field, before and after.
        lines = []
        for name in form.changed_data:
            field = form.fields[name]
            before = field.prepare_value(form.initial.get(name))
            after = (
                form.data.get(name)
                if name not in form.cleaned_data
                else field.prepare_value(form.cleaned_data[name])
            )
            lines.append(f"{field.label}: {before!s} → {after!s}")
        return [{"changed": {"fields": lines}}] if lines else []

    # Actions: each one calls a service and records what happened in the history.

    @admin.action(description="Activate selected campaigns")
    def activate(self, request, queryset):
        self._each(request, queryset, campaign_services.activate_campaign, "Activated")

    @admin.action(description="Pause selected campaigns")
    def pause(self, request, queryset):
        self._each(request, queryset, campaign_services.pause_campaign, "Paused")

    @admin.action(description="Duplicate selected campaigns (as drafts)")
    def duplicate(self, request, queryset):
        for campaign in queryset:
            self._duplicate(request, campaign)

    def _duplicate(self, request, campaign: Campaign) -> Campaign | None:
        values = {
            name: getattr(campaign, name)
            for name in CampaignForm.Meta.fields
            if name not in ("advertiser", "target_networks_other")
        }
        values["name"] = f"{campaign.name} (copy)"[:200]
        try:
            copy = campaign_services.create_campaign(
                advertiser_id=campaign.advertiser_id, values=values
            )
        except AdnetError as exc:
            self.message_user(request, f"{campaign}: {_error_text(exc)}", messages.ERROR)
            return None
        self.log_addition(request, copy, [{"added": {}}])
        self.message_user(request, f"Duplicated {campaign} as the draft {copy}.")
        return copy

    # The same, as buttons on a campaign's page (POST only; another's campaign is a 404).

    def _button(self, request, object_id: str) -> Campaign:
        campaign = self.get_object(request, object_id)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        return campaign

    def _page_of(self, campaign: Campaign) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    def activate_view(self, request, object_id):
        campaign = self._button(request, object_id)
        self._each(request, [campaign], campaign_services.activate_campaign, "Activated")
        return self._page_of(campaign)

    def pause_view(self, request, object_id):
        campaign = self._button(request, object_id)
        self._each(request, [campaign], campaign_services.pause_campaign, "Paused")
        return self._page_of(campaign)

    def duplicate_view(self, request, object_id):
        campaign = self._button(request, object_id)
        return self._page_of(self._duplicate(request, campaign) or campaign)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            context["can_activate"] = obj.status != Campaign.Status.ACTIVE
            context["can_pause"] = obj.status == Campaign.Status.ACTIVE
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _each(self, request, queryset, service, verb: str) -> None:
        for campaign in queryset:
            try:
                service(campaign=campaign)
            except AdnetError as exc:
                self.message_user(request, f"{campaign}: {_error_text(exc)}", messages.ERROR)
                continue
            self.log_change(request, campaign, verb)
            self.message_user(request, f"{verb} {campaign}.")

    # Extra pages: the dashboard and the preview.

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("dashboard/", wrap(self.dashboard_view), name="campaigns_campaign_dashboard"),
            path("preview/", wrap(self.preview_view), name="campaigns_campaign_preview"),
            *(
                path(
                    f"<path:object_id>/{verb}/",
                    wrap(require_POST(view)),
                    name=f"campaigns_campaign_{verb}",
                )
                for verb, view in (
                    ("activate", self.activate_view),
                    ("pause", self.pause_view),
                    ("duplicate", self.duplicate_view),
                )
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title: str, **context):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **context,
        }

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        tenant = selectors.tenant_of(request.user)
        campaigns = self.get_queryset(request)
        form = DashboardForm(request.GET, campaigns=campaigns)
        wants_csv = request.GET.get("export") == "csv"
        if not form.is_valid():
            if wants_csv:
                return JsonResponse(
                    error_body(
                        ValidationFailed.code,
                        ValidationFailed.default_message,
                        form.error_details(),
                    ),
                    status=400,
                )
            data = None
        else:
            form.show_effective_range()
            view = dashboard.View(
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                day=form.cleaned_data["day"],
                campaign=form.cleaned_data["campaign"],
            )
            if wants_csv:
                table, rows, name = dashboard.csv_table(campaigns, view)
                return csv_response(f"{name}.csv", table.csv_header(), rows)
            data = dashboard.build(campaigns, view)
        return TemplateResponse(
            request,
            "accounts/dashboard.html",
            self._context(
                request,
                "Dashboard",
                form=form,
                data=data,
                tenant=tenant,
                query=form.data.urlencode() if data else "",
                is_nav_sidebar_enabled=False,
            ),
            status=200 if data else 400,
        )

    def preview_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PreviewForm(request.GET or None)
        result = None
        if request.GET and form.is_valid():
            result = dashboard.preview(
                self.get_queryset(request),
                resource_url=form.cleaned_data["resource_url"],
                network=form.cleaned_data["network"],
                transport=form.cleaned_data["transport"],
                base=settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}",
            )
        return TemplateResponse(
            request,
            "accounts/preview.html",
            self._context(request, "Which of my campaigns would match?", form=form, result=result),
            status=400 if request.GET and not form.is_valid() else 200,
        )


def _error_text(exc: AdnetError) -> str:
    details = exc.details if isinstance(exc.details, dict) else {}
    extra = " ".join(" ".join(map(str, v)) for v in details.values())
    return f"{exc.message} {extra}".strip()


admin.site.register(Campaign, CampaignAdmin)


# --- Operators: facilitators and keys ------------------------------------------------------


def _operator_only(request) -> None:
    if not selectors.tenant_of(request.user).is_operator:
        raise PermissionDenied


def _key_shown_once(request, admin_obj, issued, title: str):
    response = TemplateResponse(
        request,
        "accounts/key_issued.html",
        {
            **admin_obj.admin_site.each_context(request),
            "opts": admin_obj.model._meta,
            "title": title,
            "issued": issued,
        },
    )
    # The key exists only in this response: never cached, never stored in plain text.
    response["Cache-Control"] = "no-store"
    return response


class OperatorApiKeyAdmin(ApiKeyAdmin):
    change_list_template = "accounts/apikey_change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("issue/", wrap(self.issue_view), name="facilitators_apikey_issue"),
            *super().get_urls(),
        ]

    def issue_view(self, request):
        _operator_only(request)
        form = IssueKeyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            kind, name = data["kind"], data["name"]
            if kind == ApiKey.Kind.FACILITATOR:
                issued = facilitator_services.issue_facilitator_key(
                    facilitator_id=data["facilitator"].pk, name=name
                )
            elif kind == ApiKey.Kind.ADVERTISER:
                issued = campaign_services.issue_advertiser_key(
                    advertiser_id=data["advertiser"].pk, name=name
                )
            else:
                issued = facilitator_services.issue_operator_key(name=name)
            return _key_shown_once(request, self, issued, "New API key")
        return TemplateResponse(
            request,
            "accounts/operator_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Issue an API key",
                "form": form,
            },
        )


class OperatorFacilitatorAdmin(FacilitatorAdmin):
    change_list_template = "accounts/facilitator_change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("register/", wrap(self.register_view), name="facilitators_facilitator_register"),
            *super().get_urls(),
        ]

    def register_view(self, request):
        _operator_only(request)
        form = RegisterFacilitatorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            issued = facilitator_services.register_facilitator_with_key(
                name=form.cleaned_data["name"]
            )
            return _key_shown_once(request, self, issued, "Facilitator registered")
        return TemplateResponse(
            request,
            "accounts/operator_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Register a facilitator",
                "form": form,
            },
        )


# The facilitators app cannot issue advertiser keys (that needs campaigns); these admins
# extend its own with the issuing pages.
admin.site.unregister(ApiKey)
admin.site.register(ApiKey, OperatorApiKeyAdmin)
admin.site.unregister(Facilitator)
admin.site.register(Facilitator, OperatorFacilitatorAdmin)
