"""One request id per request, on every log line it causes, including its Celery tasks.

The id comes from the caller's X-Request-ID when it is a sane token, otherwise it is made
here; it is echoed in the response, kept in a context variable for the logging filter,
sent along with every task published during the request, and restored in the worker.
"""

import contextvars
import re
import uuid

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


def for_request(presented: str) -> str:
    """The caller's X-Request-ID when it is a sane token, else a new id."""
    return presented if _SANE.match(presented) else new_id()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = for_request(request.META.get(_META_KEY, ""))
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response
