"""How report values are written for people: millis as atomic units and USDC, exactly.

Amounts stay integers (millis) until here; these render them as decimal strings without
ever going through a float, so an exported total adds up to the ledger to the last digit.
"""

import datetime as dt

from adnet.core import clock
from adnet.core.money import MILLIS_PER_ATOMIC

# USDC has 6 decimals: 1 USDC = 10^6 atomic units = 10^9 millis.
MILLIS_DIGITS = len(str(MILLIS_PER_ATOMIC)) - 1  # 3
USDC_MILLIS_DIGITS = 6 + MILLIS_DIGITS  # 9


def _decimal(value: int, scale_digits: int) -> str:
    """value / 10**scale_digits as a plain decimal string, trailing zeros trimmed."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(int(value)), 10**scale_digits)
    if not fraction:
        return f"{sign}{whole}"
    digits = f"{fraction:0{scale_digits}d}".rstrip("0")
    return f"{sign}{whole}.{digits}"


def atomic(millis: int) -> str:
    """Millis as atomic units: 1500 -> "1.5"."""
    return _decimal(millis, MILLIS_DIGITS)


def usdc(millis: int) -> str:
    """Millis as USDC (6 decimals): 2_500_000_000 -> "2.5"."""
    return _decimal(millis, USDC_MILLIS_DIGITS)


def usdc_display(millis: int) -> str:
    """USDC for a page: always two decimals at least, more when they are not zero."""
    text = usdc(millis)
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def moment(value: dt.datetime | None) -> str:
    """UTC ISO 8601 with a Z, seconds precision: the same in pages and exports."""
    if value is None:
        return ""
    return value.astimezone(clock.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
