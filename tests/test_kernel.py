"""The shared kernel: amounts, networks, addresses, signed placement tokens."""

import datetime as dt
import uuid

import pytest

from adnet.core import money, networks
from campaigns import tokens


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("1", 1), ("1500000", 1_500_000), (str(money.MAX_ATOMIC), money.MAX_ATOMIC)],
)
def test_parse_atomic_accepts_canonical_digit_strings(text, value):
    assert money.parse_atomic(text) == value


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "-1",
        "1.5",
        "1e3",
        "01",
        " 1",
        "1 ",
        "+1",
        "0x10",
        "\u0661",
        str(money.MAX_ATOMIC + 1),
        5,
        1.5,
        None,
        True,
        [],
        "9" * 400,
    ],
)
def test_parse_atomic_rejects_everything_else(bad):
    with pytest.raises(money.AmountError):
        money.parse_atomic(bad)


def test_parse_atomic_minimum():
    with pytest.raises(money.AmountError):
        money.parse_atomic("0", minimum=1)


def test_settled_amounts_may_be_large_but_bounded():
    assert money.parse_settled("9" * 78) == int("9" * 78)
    with pytest.raises(money.AmountError):
        money.parse_settled("9" * 79)


@pytest.mark.parametrize("network", [*networks.KNOWN_NETWORKS, "cosmos:cosmoshub-4"])
def test_caip2_accepts_real_ids(network):
    assert networks.is_caip2(network)


@pytest.mark.parametrize(
    "bad",
    [
        "base",
        "eip155",
        "eip155:",
        ":8453",
        "EIP155:8453",
        "eip155:8453:1",
        "ei:1",
        "eip155:" + "1" * 33,
        8453,
        None,
    ],
)
def test_caip2_rejects_malformed_ids(bad):
    assert not networks.is_caip2(bad)


def test_evm_addresses_compare_case_insensitively():
    mixed = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
    assert networks.normalize_address("eip155:8453", mixed) == mixed.lower()


def test_solana_addresses_keep_case_and_reject_non_base58():
    address = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
    assert networks.normalize_address("solana:x", address) == address
    with pytest.raises(networks.AddressError):
        networks.normalize_address("solana:x", "0" * 40)


def test_placement_tokens_round_trip_and_resist_tampering():
    placement_id = uuid.uuid4()
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    token = tokens.encode(placement_id, expires)
    decoded = tokens.decode(token)
    assert decoded == tokens.PlacementToken(placement_id, expires)
    assert decoded.expired(expires) and not decoded.expired(expires - dt.timedelta(seconds=1))
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert tokens.decode(flipped) is None
    assert tokens.decode(token[:-1]) is None
    assert tokens.decode("") is None
    assert tokens.decode("not-a-token!") is None


def test_tokens_signed_with_another_secret_are_rejected(settings):
    token = tokens.encode(uuid.uuid4(), dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    settings.SECRET_KEY = "another-secret"
    assert tokens.decode(token) is None
