"""Money as integers: atomic units of the asset on the wire, thousandths of a unit in the ledger.

CPM prices are max_bid/1000 per impression; keeping budgets, holds and charges in
thousandths of an atomic unit ("millis") makes that exact, with no rounding at all.
"""

import re

MILLIS_PER_ATOMIC = 1000
# 10^15 atomic units is a billion USDC; bounding inputs keeps every product of an amount
# and MILLIS_PER_ATOMIC inside a signed 64-bit column.
MAX_ATOMIC = 10**15
# Settled amounts are observations of other people's payments (any asset, any decimals).
MAX_SETTLED_DIGITS = 78

_DIGITS = re.compile(r"^(0|[1-9][0-9]*)$")


class AmountError(ValueError):
    """An amount that is not a canonical non-negative integer string in range."""


def parse_atomic(value: object, *, minimum: int = 0, maximum: int = MAX_ATOMIC) -> int:
    """Parse a wire amount: a string of decimal digits, no sign, exponent, fraction or padding."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise AmountError('Must be a string of decimal digits in atomic units, e.g. "1500000".')
    if not _DIGITS.match(value):
        raise AmountError(
            "Must be a whole number of atomic units written with digits only "
            "(no sign, decimal point, exponent or leading zeros)."
        )
    if len(value) > len(str(maximum)) or int(value) > maximum:
        raise AmountError(f"Must be at most {maximum}.")
    amount = int(value)
    if amount < minimum:
        raise AmountError(f"Must be at least {minimum}.")
    return amount


def parse_settled(value: object) -> int:
    """Parse a settled amount, which may be in any asset and so is only bounded in digits."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise AmountError('Must be a string of decimal digits in atomic units, e.g. "10000".')
    if not _DIGITS.match(value) or len(value) > MAX_SETTLED_DIGITS:
        raise AmountError(
            "Must be a whole number of atomic units, digits only, "
            f"at most {MAX_SETTLED_DIGITS} digits."
        )
    return int(value)


def format_atomic(amount: int) -> str:
    return str(int(amount))


def atomic_to_millis(amount: int) -> int:
    return amount * MILLIS_PER_ATOMIC


# --- Human USDC ----------------------------------------------------------------------------

USDC_DECIMALS = 6
_USDC = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]{1,6})?$")


def parse_usdc(value: object, *, maximum: int = MAX_ATOMIC) -> int:
    """Parse an amount a person typed in USDC ("2.50") into atomic units (2500000).

    Only plain decimals: no sign, exponent, grouping, padding or more than 6 decimals, so
    what was typed is exactly what is stored.
    """
    if not isinstance(value, str) or not value:
        raise AmountError('Enter an amount in USDC, for example "2.50".')
    if not _USDC.match(value):
        if re.match(r"^(0|[1-9][0-9]*)\.[0-9]{7,}$", value):
            raise AmountError("USDC has at most 6 decimal places (0.000001 is the smallest).")
        raise AmountError(
            'Enter a positive amount in USDC with a dot for decimals, for example "2.50" '
            "(no sign, spaces, commas or exponents)."
        )
    whole, _, fraction = value.partition(".")
    amount = int(whole) * 10**USDC_DECIMALS + int(fraction.ljust(USDC_DECIMALS, "0"))
    if amount > maximum:
        raise AmountError(f"Must be at most {format_usdc(maximum)} USDC.")
    return amount


def format_usdc(amount: int) -> str:
    """Atomic units as USDC with at least two decimals and no trailing noise: 2500000 -> "2.50"."""
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**USDC_DECIMALS)
    digits = f"{fraction:0{USDC_DECIMALS}d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"


def usdc_text(amount: int) -> str:
    """An amount for people to read: always all 6 decimals of USDC, and the unit.

    One precision everywhere, so a column of amounts lines up and nothing is rounded:
    2500000 -> "2.500000 USDC".
    """
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**USDC_DECIMALS)
    return f"{sign}{whole:,}.{fraction:0{USDC_DECIMALS}d} USDC"


def millis_usdc_text(millis: int) -> str:
    """Ledger millis for people to read: whole atomic units (rounded down), as usdc_text."""
    millis = int(millis)
    return usdc_text(
        millis // MILLIS_PER_ATOMIC if millis >= 0 else -(-millis // MILLIS_PER_ATOMIC)
    )
