"""The admin's password reset, throttled so it can neither flood a mailbox nor tell who
has an account.

Requests are counted per address asked for and per client; over either limit no mail
is sent, and the answer is the same redirect as when one is sent, or when no account has
that address (Django's own behaviour), so nothing is learned from it. When the counters
cannot be read (the cache is down) no mail is sent either: it fails closed, like sign-in.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django_ratelimit.core import is_ratelimited


def _address(group, request) -> str:
    # The form finds accounts by address case-insensitively; count the same way.
    return request.POST.get("email", "").strip().lower()


def _over_limit(request) -> bool:
    """Count this request against both limits; True when either is over (or uncountable)."""
    limits = (
        ("password-reset-address", _address, settings.PASSWORD_RESET_RATE_PER_ADDRESS),
        ("password-reset-client", "ip", settings.PASSWORD_RESET_RATE_PER_CLIENT),
    )
    over = False
    for group, key, rate in limits:
        try:
            limited = is_ratelimited(
                request, group=group, key=key, rate=rate, method="POST", increment=True
            )
        except Exception:  # noqa: BLE001 - any failure of the counter store: send nothing
            limited = True
        over = over or limited
    return over


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        if _over_limit(self.request):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
