"""Errors raised by the billing app."""

from adnet.core.errors import Conflict


class ConversionConflict(Conflict):
    code = "conversion_conflict"
    default_message = (
        "This conversionTxHash was already reported with a different body or by another "
        "facilitator."
    )
