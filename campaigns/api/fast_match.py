"""POST /v1/match answered at the WSGI layer, before Django builds a request.

A facilitator calls /v1/match after every settlement, so its well-formed case is answered
here without Django's request object, middleware chain, URL resolver or DRF's dispatch:
those cost more than the match itself (see docs/benchmarks.md). Everything else (a query
string such as explain mode, another content type or Accept, a body that is too large or
that the plain reader does not accept, an unknown or non-facilitator key, a host Django
would refuse, a redirect to HTTPS, no Redis budget store) is handed to Django untouched,
body included, and answered there with the usual errors.

What the answer says comes from the same code as MatchApi's (views.match_answer), and the
response carries the same headers the middleware would add: the request id, the security
headers, DRF's Allow. tests/test_fast_match.py sends the same requests both ways and
compares; every other match test runs through this path too (the test client routes
/v1/match here, see tests/support/fast.py).
"""

import io
import json
import logging
import time
from http import HTTPStatus

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.test.signals import setting_changed
from django.urls import resolve
from rest_framework.exceptions import Throttled

from adnet import metrics
from adnet.core import json_body, ratelimits, requestid
from adnet.core.api_errors import error_body, exception_handler
from campaigns import budget, services
from campaigns.api import match_input
from campaigns.api.views import match_answer
from facilitators.api.throttling import window_for
from facilitators.selectors import principal_for_key
from facilitators.services import record_key_use

logger = logging.getLogger("django.request")

PATH = "/v1/match"
_JSON_TYPES = frozenset(("application/json", "application/json; charset=utf-8"))
_ACCEPTED = frozenset(("", "*/*", "application/json"))
OK = "200 OK"


class FastMatch:
    """WSGI middleware: answers the common POST /v1/match, hands everything else on."""

    def __init__(self, django_app):
        self.django_app = django_app
        self._route = resolve(PATH).view_name
        self._counters: dict[str, object] = {}  # by status line
        self._latency = metrics.HTTP_LATENCY.labels(self._route, "POST")
        self._sites: dict[tuple, tuple[str, str] | None] = {}
        self._headers: list[tuple[str, str]] | None = None
        setting_changed.connect(self._forget)

    def _forget(self, **kwargs) -> None:
        self._sites = {}
        self._headers = None

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.django_app(environ, start_response)
        answered = self.handle(environ)
        if answered is None:
            return self.django_app(environ, start_response)
        status, headers, body, later = answered
        start_response(status, headers)
        if later:
            return _ThenRefill(body, later, self.request_finished)
        return [body]

    # --- the decision -------------------------------------------------------------------

    def handle(self, environ) -> tuple[str, list[tuple[str, str]], bytes, list] | None:
        """(status line, headers, body, the grant refills to do once it is sent), or None:
        Django answers (with the body restored)."""
        started = time.perf_counter()
        if (
            environ.get("QUERY_STRING")
            or environ.get("CONTENT_TYPE", "").lower() not in _JSON_TYPES
            or environ.get("HTTP_ACCEPT", "") not in _ACCEPTED
            or not budget.enabled()
        ):
            return None
        site = self._site(environ)
        if site is None:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= settings.API_MAX_BODY_BYTES:
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # whoever answers can read it again
        data = self._read(body)
        if data is None:
            return None
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        request_id = requestid.for_request(environ.get("HTTP_X_REQUEST_ID", ""))
        token = requestid.current.set(request_id)
        later: list[tuple[str, bool]] = []
        try:
            try:
                principal = principal_for_key(raw.strip())
            except Exception as exc:  # noqa: BLE001 - the database is down, say: a 503
                # Answered here, as DRF would word it: handing it to Django would make the
                # facilitator wait for a second connection timeout.
                status, extra, answer = self._failed(exc)
            else:
                if principal is None or not principal.is_facilitator:
                    return None
                with services.refills_after_answer() as later:
                    status, extra, answer = self._answer(principal, data, site)
        finally:
            self.request_finished()
            requestid.current.reset(token)
        payload = _render(answer)
        headers = [
            ("Content-Type", "application/json"),
            *extra,
            *self._fixed_headers(site[0] == "https"),
            ("Content-Length", str(len(payload))),
            (requestid.HEADER, request_id),
        ]
        counter = self._counters.get(status)
        if counter is None:
            counter = self._counters[status] = metrics.HTTP_REQUESTS.labels(
                self._route, "POST", status[:3]
            )
        counter.inc()
        self._latency.observe(time.perf_counter() - started)
        return status, headers, payload, later

    def _answer(self, principal, data: dict, site: tuple[str, str]):
        base = settings.PUBLIC_BASE_URL or f"{site[0]}://{site[1]}"
        try:
            record_key_use(key_pk=principal.key_pk)
            answer = match_answer(
                facilitator_id=principal.facilitator_id,
                data=data,
                base=base,
                rate=window_for(principal),
            )
            return OK, [("Allow", "POST, OPTIONS")], answer
        except ratelimits.RateLimited as limited:
            return self._failed(Throttled(wait=limited.wait_seconds))
        except Exception as error:  # noqa: BLE001 - answered as Django and DRF would
            return self._failed(error)

    def _failed(self, exc: Exception):
        """(status line, headers, body) for an exception, as DRF's handler or Django's
        500 handler would answer it."""
        handled = exception_handler(exc, {})
        if handled is None:
            signals.got_request_exception.send(sender=type(self), request=None)
            logger.error("Internal Server Error: %s", PATH, exc_info=exc)
            return _status_line(500), [], error_body("internal_error", "Internal error.")
        status = _status_line(handled.status_code)
        extra = [
            *((k, v) for k, v in handled.headers.items() if k.lower() != "content-type"),
            ("Allow", "POST, OPTIONS"),
        ]
        return status, extra, handled.data

    @staticmethod
    def _read(body: bytes) -> dict | None:
        """The validated input, read by the same JSON reader and match rules as Django's
        way in; None: Django answers (and words the refusal)."""
        try:
            return match_input.parse(json_body.loads(body))
        except (json_body.BodyRefused, match_input.Invalid):
            return None

    # --- what Django would say about the host and scheme ---------------------------------

    def _site(self, environ) -> tuple[str, str] | None:
        """(scheme, host) as Django sees them; None when Django would refuse the host or
        redirect to HTTPS (it answers those itself)."""
        proxy = settings.SECURE_PROXY_SSL_HEADER
        key = (
            environ.get("HTTP_X_FORWARDED_HOST"),
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("HTTP_X_FORWARDED_PORT"),
            environ.get(proxy[0]) if proxy else None,
            environ.get("wsgi.url_scheme"),
        )
        try:
            return self._sites[key]
        except KeyError:
            pass
        site = self._django_site(environ)
        if len(self._sites) >= 1000:
            self._sites = {}  # bounded: made-up Host headers cannot grow it without limit
        self._sites[key] = site
        return site

    @staticmethod
    def _django_site(environ) -> tuple[str, str] | None:
        names = (
            "HTTP_X_FORWARDED_HOST",
            "HTTP_HOST",
            "SERVER_NAME",
            "SERVER_PORT",
            "HTTP_X_FORWARDED_PORT",
            "wsgi.url_scheme",
        )
        proxy = settings.SECURE_PROXY_SSL_HEADER
        minimal = {name: environ[name] for name in names if name in environ}
        if proxy and proxy[0] in environ:
            minimal[proxy[0]] = environ[proxy[0]]
        minimal.update(REQUEST_METHOD="POST", PATH_INFO=PATH, SCRIPT_NAME="")
        minimal["wsgi.input"] = io.BytesIO()
        request = WSGIRequest(minimal)
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        try:
            return request.scheme, request.get_host()
        except DisallowedHost:
            return None

    def _fixed_headers(self, secure: bool) -> list[tuple[str, str]]:
        """The headers SecurityMiddleware and XFrameOptionsMiddleware add to an API answer."""
        if self._headers is None:
            headers = []
            frame = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()
            headers.append(("X-Frame-Options", frame))
            if settings.SECURE_CONTENT_TYPE_NOSNIFF:
                headers.append(("X-Content-Type-Options", "nosniff"))
            policy = settings.SECURE_REFERRER_POLICY
            if policy:
                if isinstance(policy, str):
                    policy = [v.strip() for v in policy.split(",")]
                headers.append(("Referrer-Policy", ",".join(policy)))
            if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
                headers.append(
                    ("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
                )
            self._headers = headers
        if secure and settings.SECURE_HSTS_SECONDS:
            sts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                sts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                sts += "; preload"
            return [*self._headers, ("Strict-Transport-Security", sts)]
        return self._headers

    # --- what Django's handler does around every request ----------------------------------

    def request_finished(self) -> None:
        """Database connection hygiene, as Django's request_finished handler does it: a
        connection that failed or is older than CONN_MAX_AGE is closed, and the next query
        checks the connection's health first. (Django's request signals themselves cost
        a fifth of a match; nothing else listening to them concerns this path.)"""
        close_old_connections()


class _ThenRefill:
    """The answer's body, and after the server has sent it (WSGI's close()), the grant
    refills the match left for then (campaigns.services.refills_after_answer). The worker
    is busy for that long; the facilitator does not wait."""

    def __init__(self, body: bytes, later: list[tuple[str, bool]], finished):
        self.body, self.later, self.finished = body, later, finished

    def __iter__(self):
        yield self.body

    def close(self) -> None:
        try:
            services.refill_later(self.later)
        finally:
            self.finished()


def _status_line(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _render(data) -> bytes:
    """JSON as DRF's JSONRenderer writes it (compact, UTF-8, U+2028/9 escaped)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
