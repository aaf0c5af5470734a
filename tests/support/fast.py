"""A test client whose POST /v1/match goes through the production WSGI fast path.

The production server answers well-formed matches in campaigns.api.fast_match, before
Django. Django's test client calls Django's handler directly, so by itself it would test
only the fallback. This client's handler offers every request to FastMatch first, exactly
as adnet.wsgi does, and hands the rest to the test client's own handler; the answer is
turned into the HttpResponse the test client expects. `fast_answers` counts what the fast
path answered, so a test can prove which path it exercised.
"""

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.test.client import ClientHandler
from rest_framework.test import APIClient

from campaigns import services
from campaigns.api.fast_match import FastMatch


class _TestFastMatch(FastMatch):
    def request_finished(self) -> None:
        # As Django's ClientHandler does: the test's transaction keeps its connection.
        pass


class FastPathHandler(ClientHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fast = _TestFastMatch(django_app=None)
        self.fast_answers = 0
        self.refilled_after_answer: list[tuple[str, bool]] = []

    def __call__(self, environ):
        answered = None
        if environ.get("PATH_INFO") == "/v1/match" and environ.get("REQUEST_METHOD") == "POST":
            answered = self.fast.handle(environ)
        if answered is None:
            return super().__call__(environ)
        self.fast_answers += 1
        status, headers, body, later = answered
        response = HttpResponse(body, status=int(status[:3]))
        for name, value in headers:
            response[name] = value
        response.wsgi_request = WSGIRequest(environ)
        # As the server does once the answer is sent (FastMatch's close()).
        self.refilled_after_answer += later
        services.refill_later(later)
        return response


class FastPathClient(APIClient):
    """APIClient whose matches go through the WSGI fast path when it takes them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.handler = FastPathHandler(enforce_csrf_checks=False)

    @property
    def fast_answers(self) -> int:
        return self.handler.fast_answers
