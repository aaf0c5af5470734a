"""Request guards that must act before any view or parser touches the body."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from adnet.core.api_errors import database_unavailable_response, json_error_response


class BodySizeLimitMiddleware:
    """Refuse oversized API bodies with 413 from the declared length, before reading them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/v1/"):
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
