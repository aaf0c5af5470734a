"""Turns every failed API request into the one error body {"error": {code, message, details}}."""

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from adnet.core.errors import AdnetError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def _flatten(detail: Any) -> Any:
    """DRF's ErrorDetail strings become plain strings; structure is kept."""
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) for value in detail]
    return str(detail)


_DRF_CODES: dict[type, tuple[str, str]] = {
    drf.ParseError: ("malformed_body", "The body is not valid JSON."),
    drf.UnsupportedMediaType: ("unsupported_media_type", "Send the body as application/json."),
    drf.NotAuthenticated: ("unauthorized", "Missing or invalid API key."),
    drf.AuthenticationFailed: ("unauthorized", "Missing or invalid API key."),
    drf.PermissionDenied: ("forbidden", "This key may not do that."),
    drf.NotFound: ("not_found", "Not found."),
    drf.MethodNotAllowed: ("method_not_allowed", "Method not allowed."),
    drf.NotAcceptable: ("not_acceptable", "Only application/json responses are offered."),
    drf.Throttled: ("rate_limited", "Too many requests."),
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, AdnetError):
        status, body = exc.status, error_body(exc.code, exc.message, exc.details)
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="adnet"'
    elif isinstance(exc, drf.ValidationError):
        status = 400
        body = error_body("validation_error", "Some fields are invalid.", _flatten(exc.detail))
    elif isinstance(exc, drf.APIException):
        code, message = next(
            (pair for cls, pair in _DRF_CODES.items() if isinstance(exc, cls)),
            ("error", str(exc.detail)),
        )
        if isinstance(exc, drf.ParseError | drf.UnsupportedMediaType):
            message = str(exc.detail) or message
        status, body = exc.status_code, error_body(code, message)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="adnet"'
        wait = getattr(exc, "wait", None)
        if wait is not None:
            # Throttled has already rounded the wait up to whole seconds: adding one more
            # would tell a client 61 s in the first second of a one-minute window.
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
    elif isinstance(exc, Http404):
        status, body = 404, error_body("not_found", "Not found.")
    elif isinstance(exc, PermissionDenied):
        status, body = 403, error_body("forbidden", "This key may not do that.")
    elif isinstance(exc, RequestDataTooBig):
        status, body = 413, error_body("body_too_large", "The request body is too large.")
    elif isinstance(exc, OperationalError | InterfaceError):
        return _database_unavailable(exc, Response)
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        status, body = 500, error_body("internal_error", "Internal error.")
    else:
        return None  # Unexpected: let Django log it and answer 500 through handler500.
    return Response(body, status=status, headers=headers)


def _database_unavailable(exc: Exception, response_class):
    # Connection refused, timeouts, statement timeouts, the request's deadline: the database
    # is sick, not the request.
    logger.warning("database unavailable: %s", exc)
    body = error_body("service_unavailable", "The database is unavailable; try again shortly.")
    return response_class(body, status=503, headers={"Retry-After": "1"})


def database_unavailable_response(exc: Exception) -> JsonResponse | None:
    """The 503 for a database failure outside DRF's views (the admin, report pages); None
    for any other exception."""
    if isinstance(exc, OperationalError | InterfaceError):
        return _database_unavailable(exc, JsonResponse)
    return None


def json_error_response(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)
