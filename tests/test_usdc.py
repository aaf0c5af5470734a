"""Human USDC amounts both ways: what a person types, and what the admin shows."""

import pytest

from adnet.core import money


@pytest.mark.parametrize(
    ("text", "atomic"),
    [
        ("0.000001", 1),
        ("1", 1_000_000),
        ("1.5", 1_500_000),
        ("1.50", 1_500_000),
        ("2.50", 2_500_000),
        ("0", 0),
        ("1000000000", 10**15),
    ],
)
def test_parse_usdc(text, atomic):
    assert money.parse_usdc(text) == atomic


@pytest.mark.parametrize(
    "text",
    ["1.0000001", "-1", "1e3", "", " 1", "1 ", "1,5", "01", "1.", ".5", "+1", "1000000000.000001"],
)
def test_parse_usdc_rejects(text):
    with pytest.raises(money.AmountError):
        money.parse_usdc(text)


def test_parse_usdc_rejects_non_strings():
    for value in (None, 1, 1.5, True):
        with pytest.raises(money.AmountError):
            money.parse_usdc(value)


@pytest.mark.parametrize(
    ("atomic", "text"),
    [
        (1, "0.000001"),
        (1_000_000, "1.00"),
        (1_500_000, "1.50"),
        (2_500_000, "2.50"),
        (0, "0.00"),
        (1_234_567, "1.234567"),
        (10**15, "1000000000.00"),
    ],
)
def test_format_usdc(atomic, text):
    assert money.format_usdc(atomic) == text


@pytest.mark.parametrize("atomic", [1, 10, 999_999, 1_000_000, 1_500_001, 10**15])
def test_round_trip(atomic):
    assert money.parse_usdc(money.format_usdc(atomic)) == atomic
