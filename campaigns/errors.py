"""Errors raised by the campaigns app."""

from adnet.core.errors import Conflict, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    default_message = "No such campaign."


class AdvertiserNotFound(NotFound):
    code = "advertiser_not_found"
    default_message = "No such advertiser."


class InvalidTransition(Conflict):
    code = "invalid_status_transition"
    default_message = "The campaign cannot move to that status from its current one."


class BudgetBelowCommitted(Conflict):
    code = "budget_below_committed"
    default_message = (
        "The new budget is lower than what is already charged or held for open placements."
    )


class BudgetTooSmall(Conflict):
    code = "budget_exhausted"
    default_message = "The remaining budget cannot pay for one more placement at max_bid_amount."
