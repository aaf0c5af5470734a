"""The admin site: Django's, with sign-in attempts rate-limited per client address."""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django_ratelimit.core import is_ratelimited

from adnet import checks  # noqa: F401 - registers the deployment's system checks


def _login_rate(group, request) -> str:
    return settings.ADMIN_LOGIN_RATE


class AdnetAdminSite(admin.AdminSite):
    site_header = "adnet"
    site_title = "adnet admin"
    index_title = "Operations"

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
        from functools import wraps

        from accounts.selectors import tenant_of

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if tenant_of(request.user).is_advertiser:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return self.admin_view(guarded)


class AdnetAdminConfig(AdminConfig):
    default_site = "adnet.admin_site.AdnetAdminSite"


def too_many_attempts(request, exception) -> HttpResponse:
    response = HttpResponse(
        "Too many sign-in attempts. Wait a minute and try again.\n",
        status=429,
        content_type="text/plain",
    )
    response["Retry-After"] = "60"
    return response
