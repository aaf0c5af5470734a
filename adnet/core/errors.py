"""The one domain error type of the API; every app raises these (or subclasses) and nothing else."""

from typing import Any


class AdnetError(Exception):
    """An error with a stable machine code, an HTTP status and a message a person can act on."""

    status: int = 400
    code: str = "bad_request"
    default_message: str = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details
        if code is not None:
            self.code = code
        super().__init__(self.message)


class ValidationFailed(AdnetError):
    status = 400
    code = "validation_error"
    default_message = "Some fields are invalid."


class Unauthorized(AdnetError):
    status = 401
    code = "unauthorized"
    default_message = "Missing or invalid API key."


class Forbidden(AdnetError):
    status = 403
    code = "forbidden"
    default_message = "This key may not do that."


class NotFound(AdnetError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(AdnetError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class ServiceUnavailable(AdnetError):
    status = 503
    code = "service_unavailable"
    default_message = "A backing service is unavailable; try again shortly."
