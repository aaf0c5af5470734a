"""How report values are written for people: millis as atomic units and USDC, exactly,
and code names (statuses, sources, reasons) as words.

Amounts stay integers (millis) until here; these render them as decimal strings without
ever going through a float, so an exported total adds up to the ledger to the last digit.
Every page and export that shows a code name goes through `words`, so a status reads the
same on the dashboard, the report pages and their CSV.
"""

import datetime as dt

from adnet.core import clock, money
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
    """USDC for a page, in the admin's one precision (adnet.core.money.millis_usdc_text: all
    6 decimals, whole atomic units) without the unit, which the column or sentence names.
    Exports keep the exact ledger value (`usdc`)."""
    return money.millis_usdc_text(millis).removesuffix(" USDC")


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


# --- Code names as words -------------------------------------------------------------------
# Keyed by the stored codes. A code missing here (a reason added later) is still shown as
# words by `words`, never as a snake_case identifier.

CONVERSION_STATUS = {
    "awaiting_evidence": "Waiting for both transaction hashes",
    "billed": "Billed",
    "not_billable": "Not billable (the strategy does not bill conversions)",
    "unbilled": "Delivered but not billed",
}
CONVERSION_SOURCE = {
    "server": "Attributed by the network",
    "report": "Reported by a facilitator",
}
CAMPAIGN_STATUS = {
    "draft": "Draft",
    "active": "Active",
    "paused": "Paused",
    "completed": "Completed",
    "exhausted": "Exhausted (total budget spent)",
}
PLACEMENT_STATE = {
    "matched": "Matched",
    "delivered": "Delivered",
    "impression": "Impression verified",
    "converted": "Converted",
    "expired": "Expired",
}
BILLING_EVENT = {
    "impression": "Verified impression",
    "click": "Click",
    "conversion": "Conversion",
}
INVALID_SOURCE = {
    "event": "Settlement event",
    "beacon": "Impression beacon",
    "click": "Click",
    "conversion": "Conversion",
}
# Why traffic was invalid, a charge or conversion went unbilled, or a campaign would not
# answer a settlement (the matching engine's exclusions, shown by the preview).
REASON = {
    "forged_token": "Token not issued by this network",
    "unknown_placement": "Unknown placement",
    "other_facilitator": "Placement of another facilitator",
    "expired_placement": "Placement expired",
    "campaign_mismatch": "Campaign differs from the placement's",
    "payer_mismatch": "Payer differs from the placement's",
    "network_mismatch": "Network differs from the placement's",
    "payer_is_advertiser": "The payer is the advertiser's own wallet",
    "duplicate_delivery": "Settlement event already received",
    "duplicate_impression": "Impression already counted",
    "beacon_for_non_http_placement": "Beacon for an mcp/a2a placement",
    "duplicate_click": "Click already counted",
    "tx_hash_reused": "Transaction hash already claimed in another role",
    "not_conversion_resource": "Not the placement's conversion resource",
    "before_placement": "Paid before the placement",
    "outside_window": "Outside the attribution window",
    "already_converted": "Placement already converted",
    "original_tx_hash_mismatch": "Original transaction differs from the placement's",
    "no_evidence": "No on-chain evidence in time",
    "hold_released": "Its budget hold had been released",
    "outside_schedule": "Outside its schedule (not started yet, or ended)",
    "network_not_targeted": "This network is not among its networks",
    "transport_not_targeted": "This transport is not among its transports",
    "url_pattern_not_matched": "The URL matches none of its URL patterns",
    "category_not_matched": "The resource is not in one of its categories",
    "recommends_paid_resource": "It would recommend the very resource being paid for",
    "not_active": "The campaign is not active (draft, paused, completed or exhausted)",
    "frequency_capped": "This payer has seen it as often as the frequency cap allows today",
    "budget_total_committed": "The total budget is spent or held",
    "budget_daily_committed": "Today's budget is spent or held",
    "paced": "Even pacing: it is ahead of the even-delivery line for today",
}


def words(vocabulary: dict[str, str], code: str | None) -> str:
    """A code name as people read it: its entry in `vocabulary`, else the code spelled out
    ("new_reason" -> "New reason"); empty for no code."""
    if not code:
        return ""
    return vocabulary.get(code) or code.replace("_", " ").capitalize()
