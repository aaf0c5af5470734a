"""Serializer fields for the wire formats: digit-string amounts, CAIP-2 ids, URLs, globs,
transaction hashes; and the column lengths every text field of the API is bounded by."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from adnet.core import networks
from adnet.core.money import AmountError, parse_atomic, parse_settled
from campaigns import validation
from campaigns.matching import patterns

MAX_URL_LENGTH = 2048
MAX_LIST_ITEMS = validation.MAX_LIST_ITEMS


def _check(rule, *args):
    """Run a shared rule of campaigns.validation, its words becoming this field's error."""
    try:
        return rule(*args)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc
# Hex (0x and 64 digits) or base58 (Solana: 87 or 88); bounded by the column it goes to.
TX_HASH_PATTERN = r"^(0x)?[0-9A-Za-z]{16,}$"
TX_HASH_MESSAGE = "Must be a transaction hash (hex or base58)."
_TX_HASH = re.compile(TX_HASH_PATTERN)


def column_length(model, field: str) -> int:
    """The most characters the model's column holds: the API refuses longer text rather
    than have the database refuse it (a 500) or cut it silently."""
    return model._meta.get_field(field).max_length


def is_tx_hash(value: str) -> bool:
    return bool(_TX_HASH.match(value))


class TxHashField(serializers.RegexField):
    """A settlement's transaction hash, at most as long as the column it is stored in."""

    def __init__(self, *, max_length: int, **kwargs):
        kwargs.setdefault("error_messages", {"invalid": TX_HASH_MESSAGE})
        super().__init__(TX_HASH_PATTERN, max_length=max_length, **kwargs)


@extend_schema_field({"type": "string", "pattern": "^(0|[1-9][0-9]*)$", "example": "1500000"})
class AtomicAmountField(serializers.Field):
    """An amount in atomic units, written as a string of digits ("1500000" is 1.50 USDC)."""

    def __init__(self, *, minimum: int = 0, **kwargs):
        self.minimum = minimum
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_atomic(data, minimum=self.minimum)
        except AmountError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value):
        return str(int(value))


@extend_schema_field({"type": "string", "pattern": "^(0|[1-9][0-9]*)$", "example": "10000"})
class SettledAmountField(serializers.Field):
    def to_internal_value(self, data):
        try:
            return parse_settled(data)
        except AmountError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value):
        return str(int(value))


class NetworkField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        _check(validation.validate_network, value)
        return value


class HttpsUrlField(serializers.CharField):
    """An absolute https URL: the recommended resource agents will be sent to pay for."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_URL_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        _check(validation.validate_https_url, value)
        return value


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


class ResourceUrlField(serializers.CharField):
    """The URL of a paid resource: absolute, any scheme (http, https, or a transport's own)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_URL_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            raise serializers.ValidationError("Must be an absolute URL.") from exc
        if (
            not _SCHEME.match(parts.scheme or "")
            or not parts.netloc
            or any(c.isspace() for c in value)
        ):
            raise serializers.ValidationError(
                "Must be an absolute URL, e.g. https://api.example.com/x."
            )
        return value


class StringListField(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_LIST_ITEMS)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return list(dict.fromkeys(values))  # keep order, drop repeats


class NetworkListField(StringListField):
    def __init__(self, **kwargs):
        super().__init__(child=NetworkField(), **kwargs)


class TransportListField(StringListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=networks.TRANSPORTS), **kwargs)


class UrlPatternField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return patterns.validate(value)
        except patterns.PatternError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class UrlPatternListField(StringListField):
    def __init__(self, **kwargs):
        super().__init__(child=UrlPatternField(), **kwargs)


class CategoryListField(StringListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.CharField(
                max_length=validation.MAX_CATEGORY_LENGTH, trim_whitespace=True
            ),
            **kwargs,
        )
