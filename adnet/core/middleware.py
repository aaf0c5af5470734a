"""Request guards that must act before any view or parser touches the body."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from adnet.core.api_errors import database_unavailable_response, json_error_response


class BodySizeLimitMiddleware:
    """Refuse oversized API bodies with 413 from the declared length, before reading them;
    and a query string holding NUL (%00), which no column can store, with 400 (bodies get
    the same refusal from adnet.core.json_body; Django decodes a query string's broken
    UTF-8 as U+FFFD, so it never holds a lone surrogate)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/v1/"):
            query = request.META.get("QUERY_STRING", "")
            if "%00" in query or "\x00" in query:
                return json_error_response(
                    400, "bad_request", "The query string holds NUL (%00), which is not allowed."
                )
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return json_error_response(400, "bad_request", "Content-Length is not a number.")
            limit = (
                settings.API_MAX_BATCH_BODY_BYTES
                if request.path in settings.API_BATCH_PATHS
                else settings.API_MAX_BODY_BYTES
            )
            if length > limit:
                return json_error_response(
                    413, "body_too_large", f"The request body is larger than {limit} bytes."
                )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Views outside DRF (the admin, report pages) answer a sick database as the API does:
    503 in the error shape, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        return database_unavailable_response(exception)
