"""The rules advertiser and campaign values must meet, in words: the API serializers and
the admin forms both call these, so the two can never disagree.

Each rule raises (or returns) Django's ValidationError, which DRF fields and Django form
fields both turn into a field error. Codes are the rules' own: a form field replaces the
message of a code it also knows ("invalid", "max_length") with its generic one. The
database's check constraints hold the same invariants atomically; these say them to people
first.
"""

import datetime as dt
import math
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from adnet.core import networks
from adnet.core.money import MILLIS_PER_ATOMIC, usdc_text
from campaigns.matching import engine
from campaigns.models import MAX_ATTRIBUTION_WINDOW_SECONDS, Campaign

MIN_ATTRIBUTION_WINDOW_SECONDS = 60
DEFAULT_ATTRIBUTION_WINDOW_SECONDS = 1800
MIN_FREQUENCY_CAP, MAX_FREQUENCY_CAP = 1, 10_000
# Targeting lists (networks, transports, URL patterns, categories) and their items.
MAX_LIST_ITEMS = 50
MAX_CATEGORY_LENGTH = 64

NOT_A_NETWORK = (
    'Must be a CAIP-2 network id such as "eip155:8453" (Base) or '
    '"solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" (Solana).'
)
NOT_HTTPS = "Must be an absolute https:// URL, e.g. https://api.example.com/x."
DAILY_ABOVE_TOTAL = "Must not be more than the total budget."
END_NOT_AFTER_START = "Must be after the start."


def validate_network(value: str) -> None:
    if not networks.is_caip2(value):
        raise ValidationError(NOT_A_NETWORK, code="not_a_network")


def normalized_wallet(network: str, address: str) -> str:
    """The wallet in its canonical form for the network (EVM lowered), or a ValidationError."""
    try:
        return networks.normalize_address(network, address)
    except networks.AddressError as exc:
        raise ValidationError(str(exc), code="not_a_wallet") from exc


def validate_https_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise ValidationError(NOT_HTTPS, code="not_https")


def validate_attribution_window(value: int | None) -> None:
    if value is not None and not (
        MIN_ATTRIBUTION_WINDOW_SECONDS <= value <= MAX_ATTRIBUTION_WINDOW_SECONDS
    ):
        raise ValidationError(
            f"Must be between {MIN_ATTRIBUTION_WINDOW_SECONDS} seconds and 30 days "
            f"({MAX_ATTRIBUTION_WINDOW_SECONDS} seconds).",
            code="out_of_range",
        )


def validate_frequency_cap(value: int | None) -> None:
    if value is not None and not MIN_FREQUENCY_CAP <= value <= MAX_FREQUENCY_CAP:
        raise ValidationError(
            f"Must be between {MIN_FREQUENCY_CAP} and {MAX_FREQUENCY_CAP}, or empty for the "
            "network default.",
            code="out_of_range",
        )


def validate_list_length(values: list) -> None:
    if len(values) > MAX_LIST_ITEMS:
        raise ValidationError(f"At most {MAX_LIST_ITEMS} items.", code="too_many")


def validate_categories(values: list[str]) -> None:
    if any(len(value) > MAX_CATEGORY_LENGTH for value in values):
        raise ValidationError(
            f"Each category must be at most {MAX_CATEGORY_LENGTH} characters.", code="too_long"
        )


def campaign_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    """Rules across fields. A rule is checked when the values it needs are there (not None),
    so a form with one bad field still hears about the others."""
    errors: dict[str, list[str]] = {}
    total, daily = values.get("budget_total"), values.get("budget_daily")
    bid = values.get("max_bid_amount")
    strategy = values.get("bid_strategy") or Campaign.BidStrategy.CPA
    if total is not None and daily is not None and daily > total:
        errors.setdefault("budget_daily", []).append(DAILY_ABOVE_TOTAL)
    if bid is not None:
        hold = engine.hold_millis(strategy, bid)
        least = usdc_text(math.ceil(hold / MILLIS_PER_ATOMIC))
        for name, amount in (("budget_total", total), ("budget_daily", daily)):
            if amount is not None and amount * MILLIS_PER_ATOMIC < hold:
                errors.setdefault(name, []).append(
                    f"Too small to pay for a single placement at this bid: at least {least}."
                )
    start, end = values.get("schedule_start"), values.get("schedule_end")
    if start is not None and end is not None and end <= start:
        errors.setdefault("schedule_end", []).append(END_NOT_AFTER_START)
    return errors


def committed_minimums(campaign: Campaign, today: dt.date) -> dict[str, int]:
    """The least total and daily budget (atomic units) that cover what is already spent or
    held for open placements: a budget below them is refused by the database."""
    day_committed = campaign.day_spent_millis + campaign.day_held_millis
    return {
        "budget_total": math.ceil(
            (campaign.spent_millis + campaign.held_millis) / MILLIS_PER_ATOMIC
        ),
        "budget_daily": math.ceil(day_committed / MILLIS_PER_ATOMIC)
        if campaign.day == today
        else 0,
    }


def below_committed_errors(
    campaign: Campaign, values: dict[str, Any], today: dt.date
) -> dict[str, list[str]]:
    """For each budget in values below its committed minimum, a message naming the minimum."""
    errors = {}
    for name, least in committed_minimums(campaign, today).items():
        amount = values.get(name)
        if amount is not None and amount < least:
            what = "today" if name == "budget_daily" else "so far"
            errors[name] = [
                f"Must be at least {usdc_text(least)}: that much is already spent or held "
                f"{what} for open placements."
            ]
    return errors
