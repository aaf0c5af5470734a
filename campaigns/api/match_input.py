"""The match request's body, read without the serializer framework when it is well formed.

/v1/match is called after every settlement, so its input is read by plain code for the
common case: every field present is a string already in its canonical form. Anything else
(a missing or mistyped field, surrounding whitespace to trim, an invalid value) returns
None and the caller runs MatchInputSerializer, which either accepts it or words the error.
A property test checks that the two agree on every input this accepts.
"""

from urllib.parse import urlsplit

from adnet.core import networks
from adnet.core.money import AmountError, parse_settled
from campaigns.api.fields import _SCHEME, MAX_URL_LENGTH

_TRANSPORTS = frozenset(("http", "mcp", "a2a"))
_TX_HASH_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _clean(value, max_length: int, blank: bool = False) -> bool:
    return (
        type(value) is str
        and (blank or value != "")
        and len(value) <= max_length
        and value == value.strip()
        and "\x00" not in value
    )


def _resource_url(value) -> bool:
    if not _clean(value, MAX_URL_LENGTH) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(_SCHEME.match(parts.scheme or "")) and bool(parts.netloc)


def _tx_hash(value) -> bool:
    if not _clean(value, 10_000, blank=True):
        return False
    if value == "":
        return True
    digits = value[2:] if value.startswith("0x") else value
    return 16 <= len(digits) <= 128 and all(c in _TX_HASH_CHARS for c in digits)


def parse(data) -> dict | None:
    """The validated match input, as the serializer would give it; None: ask the serializer."""
    if type(data) is not dict:
        return None
    url = data.get("resourceUrl")
    network = data.get("network")
    payer = data.get("payerWallet")
    description = data.get("resourceDescription", "")
    transport = data.get("transport", "http")
    tx_hash = data.get("txHash", "")
    if not (
        _resource_url(url)
        and _clean(network, 64)
        and networks.is_caip2(network)
        and _clean(payer, 128)
        and _clean(description, 4000, blank=True)
        and type(transport) is str
        and transport in _TRANSPORTS
        and _tx_hash(tx_hash)
    ):
        return None
    try:
        amount = parse_settled(data.get("settledAmount"))
        payer = networks.normalize_address(network, payer)
    except (AmountError, networks.AddressError):
        return None
    return {
        "resourceUrl": url,
        "resourceDescription": description,
        "network": network,
        "payerWallet": payer,
        "settledAmount": amount,
        "transport": transport,
        "txHash": tx_hash,
    }
