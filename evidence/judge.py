"""The one rule that says whether a chain's observation proves a claim (pure, no I/O)."""

import enum
from dataclasses import dataclass

from evidence.facts import Claim, Observation


class Outcome(enum.StrEnum):
    PROVEN = "proven"
    # Not yet decided: ask again later (unknown to the node so far, or not final yet).
    WAITING = "waiting"
    # Decided against the claim, for good.
    REFUTED = "refuted"


class Reason(enum.StrEnum):
    PROVEN = "proven"
    NOT_FOUND = "not_found"
    NOT_FINAL = "not_final"
    FAILED = "failed"
    NO_PAYMENT_FROM_PAYER = "no_payment_from_payer"
    WRONG_RECIPIENT = "wrong_recipient"
    AMOUNT_SHORT = "amount_short"
    OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: Reason
    paid: int = 0  # what the payer moved of the asset to an accepted recipient

    @property
    def proven(self) -> bool:
        return self.outcome is Outcome.PROVEN


def judge(claim: Claim, seen: Observation) -> Verdict:
    """Checks in a fixed order; the first that fails names the reason."""
    if not seen.found:
        return Verdict(Outcome.WAITING, Reason.NOT_FOUND)
    if not seen.succeeded:
        return Verdict(Outcome.REFUTED, Reason.FAILED)
    if not seen.final:
        return Verdict(Outcome.WAITING, Reason.NOT_FINAL)
    from_payer = [t for t in seen.transfers if t.asset == claim.asset and t.sender == claim.payer]
    if not from_payer:
        return Verdict(Outcome.REFUTED, Reason.NO_PAYMENT_FROM_PAYER)
    accepted = [t for t in from_payer if not claim.pay_to or t.recipient in claim.pay_to]
    if not accepted:
        return Verdict(Outcome.REFUTED, Reason.WRONG_RECIPIENT)
    paid = sum(t.amount for t in accepted)
    if paid < claim.amount:
        return Verdict(Outcome.REFUTED, Reason.AMOUNT_SHORT, paid)
    if seen.at is not None and (
        (claim.not_before is not None and seen.at < claim.not_before)
        or (claim.not_after is not None and seen.at > claim.not_after)
    ):
        return Verdict(Outcome.REFUTED, Reason.OUTSIDE_WINDOW, paid)
    return Verdict(Outcome.PROVEN, Reason.PROVEN, paid)
