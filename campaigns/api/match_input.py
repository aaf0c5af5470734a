"""The one validation of a /v1/match body (wire-contract §2), used by every way in.

The WSGI fast path (fast_match) and MatchApi both call parse(); MatchInputSerializer only
declares the body for the OpenAPI schema, and validates through parse() too. The body
has already been read by adnet.core.json_body (no NUL, lone surrogate or deep nesting
anywhere in it). Text is bounded by the MatchRequest column it is stored in, and trimmed
of surrounding whitespace; unknown fields are ignored (facilitators may send more than
this network reads). parse() is plain code, not a serializer: it runs on every
settlement, and DRF's field machinery costs more than the rest of a match's reading.
"""

from urllib.parse import urlsplit

from adnet.core import networks
from adnet.core.money import AmountError, parse_settled
from campaigns.api.fields import _SCHEME, TX_HASH_MESSAGE, column_length, is_tx_hash
from campaigns.models import MatchRequest

TRANSPORTS = ("http", "mcp", "a2a")
URL_LENGTH = column_length(MatchRequest, "resource_url")
DESCRIPTION_LENGTH = column_length(MatchRequest, "resource_description")
NETWORK_LENGTH = column_length(MatchRequest, "network")
PAYER_LENGTH = column_length(MatchRequest, "payer")
TX_HASH_LENGTH = column_length(MatchRequest, "tx_hash")

REQUIRED = "This field is required."
NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_TEXT = "Not a valid string."
BAD_URL = "Must be an absolute URL, e.g. https://api.example.com/x."
BAD_NETWORK = (
    'Must be a CAIP-2 network id such as "eip155:8453" (Base) or '
    '"solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" (Solana).'
)
BAD_TRANSPORT = f"Must be one of: {', '.join(TRANSPORTS)}."

_MISSING = object()


class Invalid(ValueError):
    """The body is not a valid match request; details: messages per field."""

    def __init__(self, details: dict[str, list[str]]):
        self.details = details
        super().__init__(details)


def _text(data: dict, name: str, limit: int, errors: dict, *, optional: bool = False) -> str:
    """The field's trimmed text ("" when an optional one is absent), or "" and an error."""
    value = data.get(name, _MISSING)
    if value is _MISSING:
        if not optional:
            errors[name] = [REQUIRED]
        return ""
    if type(value) is not str:
        errors[name] = [NULL if value is None else NOT_TEXT]
        return ""
    value = value.strip()
    if not value and not optional:
        errors[name] = [BLANK]
    elif len(value) > limit:
        errors[name] = [f"Ensure this field has no more than {limit} characters."]
        return ""
    return value


def _is_absolute_url(value: str) -> bool:
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(_SCHEME.match(parts.scheme or "")) and bool(parts.netloc)


def parse(data) -> dict:
    """The validated match input; Invalid (with a message per field) if it is not one."""
    if type(data) is not dict:
        kind = type(data).__name__
        raise Invalid(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    errors: dict[str, list[str]] = {}
    url = _text(data, "resourceUrl", URL_LENGTH, errors)
    if url and not _is_absolute_url(url):
        errors["resourceUrl"] = [BAD_URL]
    description = _text(data, "resourceDescription", DESCRIPTION_LENGTH, errors, optional=True)
    network = _text(data, "network", NETWORK_LENGTH, errors)
    if network and not networks.is_caip2(network):
        errors["network"] = [BAD_NETWORK]
        network = ""
    payer = _text(data, "payerWallet", PAYER_LENGTH, errors)
    if payer and network:
        try:
            payer = networks.normalize_address(network, payer)
        except networks.AddressError as exc:
            errors["payerWallet"] = [str(exc)]
    amount = data.get("settledAmount", _MISSING)
    if amount is _MISSING or amount is None:
        errors["settledAmount"] = [REQUIRED if amount is _MISSING else NULL]
    else:
        try:
            amount = parse_settled(amount)
        except AmountError as exc:
            errors["settledAmount"] = [str(exc)]
    transport = data.get("transport", "http")
    if transport not in TRANSPORTS or type(transport) is not str:
        errors["transport"] = [NULL if transport is None else BAD_TRANSPORT]
    tx_hash = _text(data, "txHash", TX_HASH_LENGTH, errors, optional=True)
    if tx_hash and not is_tx_hash(tx_hash):
        errors["txHash"] = [TX_HASH_MESSAGE]
    if errors:
        raise Invalid(errors)
    return {
        "resourceUrl": url,
        "resourceDescription": description,
        "network": network,
        "payerWallet": payer,
        "settledAmount": amount,
        "transport": transport,
        "txHash": tx_hash,
    }
