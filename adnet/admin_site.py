"""The admin site: a home and a menu for each kind of person, its own error pages, and
sign-in attempts rate-limited per client address."""

from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django_ratelimit.core import is_ratelimited

from accounts.selectors import tenant_of
from adnet import checks  # noqa: F401 - registers the deployment's system checks

# The menu: (label, URL name, who sees it). "operator" pages are about the whole network.
MENU = (
    ("Network overview", "reports:overview", "operator"),
    ("Dashboard", "admin:campaigns_campaign_dashboard", "any"),
    ("Campaigns", "admin:campaigns_campaign_changelist", "any"),
    ("Preview matching", "admin:campaigns_campaign_preview", "any"),
    ("Advertisers", "admin:campaigns_advertiser_changelist", "operator"),
    ("Facilitators", "admin:facilitators_facilitator_changelist", "operator"),
    ("API keys", "admin:facilitators_apikey_changelist", "operator"),
    ("All tables", "admin:tables", "operator"),
)


def _login_rate(group, request) -> str:
    return settings.ADMIN_LOGIN_RATE


class AdnetAdminSite(admin.AdminSite):
    site_header = "adnet"
    site_title = "adnet admin"
    index_title = "All tables"
    # There is no public site to go back to: the API answers machines only.
    site_url = None
    # The menu in the header is the one navigation; wide tables keep the whole width.
    enable_nav_sidebar = False

    def get_urls(self):
        return [path("tables/", self.admin_view(self.tables), name="tables"), *super().get_urls()]

    def index(self, request, extra_context=None):
        """Each person's home: advertisers their dashboard, operators the network overview."""
        tenant = tenant_of(request.user)
        if tenant.is_operator:
            return HttpResponseRedirect(reverse("reports:overview"))
        if tenant.is_advertiser:
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_dashboard"))
        return self.tables(request, extra_context)

    def tables(self, request, extra_context=None):
        """Django's list of every table the person may see (the admin's own index page)."""
        return super().index(request, extra_context)

    def each_context(self, request):
        context = super().each_context(request)
        context["menu"] = menu_of(request)
        return context

    def login(self, request, extra_context=None):
        # Attempts are counted per address; when they cannot be counted (the store is down)
        # sign-in is refused: it fails closed.
        if request.method == "POST":
            try:
                limited = is_ratelimited(
                    request,
                    group="admin-login",
                    key="ip",
                    rate=_login_rate,
                    method="POST",
                    increment=True,
                )
            except Exception:  # noqa: BLE001 - any failure of the counter store
                return HttpResponse(
                    "Sign-in is unavailable right now; try again shortly.\n",
                    status=503,
                    content_type="text/plain",
                )
            if limited:
                return too_many_attempts(request, None)
        return super().login(request, extra_context)

    def operator_view(self, view):
        """Staff pages about the whole network: refused to advertiser users, who are staff
        so that they can manage their own campaigns in this admin."""

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if tenant_of(request.user).is_advertiser:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return self.admin_view(guarded)


def menu_of(request) -> list[dict]:
    """The pages this person may open, the current one marked."""
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return []
    tenant = tenant_of(user)
    if not (tenant.is_operator or tenant.is_advertiser):
        return []
    items = []
    for label, name, who in MENU:
        if who == "operator" and not tenant.is_operator:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        # The longest matching prefix wins, so /campaign/dashboard/ is not also "Campaigns".
        items.append({"label": label, "url": url, "current": False})
    current = max(
        (item for item in items if request.path.startswith(item["url"])),
        key=lambda item: len(item["url"]),
        default=None,
    )
    if current is not None:
        current["current"] = True
    return items


def error_page(request, status: int, heading: str, text: str) -> TemplateResponse:
    """An error under /admin/ in the admin's own look, with the menu to go on from."""
    site = admin.site
    response = TemplateResponse(
        request,
        "accounts/error.html",
        {**site.each_context(request), "title": heading, "text": text},
        status=status,
    )
    return response.render()


def page_not_found(request, exception=None) -> TemplateResponse:
    return error_page(
        request,
        404,
        "Page not found",
        "There is no such page, or it belongs to another advertiser.",
    )


def permission_denied(request, exception=None) -> TemplateResponse:
    return error_page(
        request,
        403,
        "Not for this account",
        "Your account may not open this page. Advertiser accounts see their own campaigns, "
        "dashboard and preview; the network's reports, facilitators and keys are for operators.",
    )


def too_many_attempts(request, exception) -> HttpResponse:
    response = HttpResponse(
        "Too many sign-in attempts. Wait a minute and try again.\n",
        status=429,
        content_type="text/plain",
    )
    response["Retry-After"] = "60"
    return response
