"""Errors raised by the events app."""

from adnet.core.errors import ValidationFailed


class BatchTooLarge(ValidationFailed):
    code = "batch_too_large"
    default_message = "A batch holds at most 500 events."
