"""The rule that says whether a chain's observation proves a claim."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.facts import Claim, Observation, Transfer
from evidence.judge import Outcome, Reason, judge

USDC = "0x" + "ab" * 20
PAYER = "0x" + "01" * 20
PAY_TO = "0x" + "02" * 20
AT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def claim(**changes) -> Claim:
    values = dict(
        network="eip155:84532",
        tx_hash="0x" + "aa" * 32,
        payer=PAYER,
        amount=10_000,
        asset=USDC,
        pay_to=frozenset({PAY_TO}),
        not_before=AT - dt.timedelta(minutes=30),
        not_after=AT + dt.timedelta(minutes=30),
    )
    return Claim(**{**values, **changes})


def seen(*transfers: Transfer, **changes) -> Observation:
    values = dict(found=True, succeeded=True, final=True, at=AT, transfers=transfers)
    return Observation(**{**values, **changes})


def paid(amount: int = 10_000, **changes) -> Transfer:
    return Transfer(
        **{**dict(asset=USDC, sender=PAYER, recipient=PAY_TO, amount=amount), **changes}
    )


def test_a_final_successful_payment_of_the_amount_proves_the_claim():
    verdict = judge(claim(), seen(paid()))
    assert (verdict.outcome, verdict.reason, verdict.paid) == (
        Outcome.PROVEN,
        Reason.PROVEN,
        10_000,
    )


@pytest.mark.parametrize(
    ("observation", "outcome", "reason"),
    [
        (Observation.missing(), Outcome.WAITING, Reason.NOT_FOUND),
        (seen(paid(), succeeded=False), Outcome.REFUTED, Reason.FAILED),
        (seen(paid(), final=False), Outcome.WAITING, Reason.NOT_FINAL),
        (seen(paid(sender="0x" + "03" * 20)), Outcome.REFUTED, Reason.NO_PAYMENT_FROM_PAYER),
        (seen(paid(asset="0x" + "cd" * 20)), Outcome.REFUTED, Reason.NO_PAYMENT_FROM_PAYER),
        (seen(paid(recipient="0x" + "04" * 20)), Outcome.REFUTED, Reason.WRONG_RECIPIENT),
        (seen(paid(9_999)), Outcome.REFUTED, Reason.AMOUNT_SHORT),
        (seen(paid(), at=AT + dt.timedelta(hours=1)), Outcome.REFUTED, Reason.OUTSIDE_WINDOW),
        (seen(paid(), at=AT - dt.timedelta(hours=1)), Outcome.REFUTED, Reason.OUTSIDE_WINDOW),
    ],
)
def test_each_way_a_claim_falls_short_is_named(observation, outcome, reason):
    verdict = judge(claim(), observation)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)


def test_payments_to_accepted_recipients_add_up_and_others_do_not():
    other = "0x" + "05" * 20
    split = seen(paid(6_000), paid(4_000, recipient=other), paid(5_000, recipient="0x" + "06" * 20))
    assert judge(claim(pay_to=frozenset({PAY_TO, other})), split).proven
    assert judge(claim(), split).reason is Reason.AMOUNT_SHORT


def test_with_no_known_recipient_any_payment_from_the_payer_counts():
    assert judge(claim(pay_to=frozenset()), seen(paid(recipient="0x" + "07" * 20))).proven


@given(
    amounts=st.lists(st.integers(min_value=0, max_value=10**12), max_size=5),
    need=st.integers(0, 10**12),
)
def test_proven_exactly_when_the_payer_paid_at_least_the_amount(amounts, need):
    verdict = judge(claim(amount=need), seen(*(paid(a) for a in amounts)))
    total = sum(amounts)
    assert verdict.proven == (bool(amounts) and total >= need)
    if amounts:
        assert verdict.paid == total
