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
