"""The URL map of the whole service: API under /v1/, docs, admin and health."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path, reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.password_reset import ThrottledPasswordResetView
from adnet import admin_site
from adnet.core.api_errors import error_body
from adnet.health import healthz, readyz
from adnet.jwks import JwksApi
from adnet.metrics import metrics_view
from adnet.ping import PingApi

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("v1/ping", PingApi.as_view(), name="ping"),
    path(".well-known/jwks.json", JwksApi.as_view(), name="jwks"),
    path("v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("v1/", include("campaigns.api.urls")),
    path("v1/", include("events.api.urls")),
    path("v1/", include("billing.api.urls")),
    path("v1/", include("reports.api.urls")),
    # Before the admin's own URLs: /admin/reports/ is the report overview, not the
    # admin's list of the reports app's models (those stay at /admin/reports/<model>/).
    path("admin/reports/", include("reports.urls")),
    # Django's password reset, linked from the admin sign-in page ("Forgotten your password?"),
    # throttled per address and per client.
    path(
        "admin/password_reset/",
        ThrottledPasswordResetView.as_view(),
        name="admin_password_reset",
    ),
    path(
        "admin/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "admin/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "admin/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
]


def _in_admin(request) -> bool:
    return request.path.startswith(reverse("admin:index"))


def not_found(request, exception=None):
    # People in the admin get a page in its look; machines everywhere else the error body.
    if _in_admin(request):
        return admin_site.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def forbidden(request, exception=None):
    if _in_admin(request):
        return admin_site.permission_denied(request, exception)
    return JsonResponse(error_body("forbidden", "Forbidden."), status=403)


def server_error(request):
    return JsonResponse(error_body("internal_error", "Internal error."), status=500)


handler403 = forbidden
handler404 = not_found
handler500 = server_error
