"""PostgreSQL's side of the budget store: lending budget to Redis and taking it back.

A grant is made by one statement that locks the campaign row, works out how much may be
lent (the rest of the total, of today's budget, of today's paced share, rounded down to
whole holds) and adds it to held_millis; the campaign's CHECK constraints state the
invariant again. A grant is closed when Redis gives it back (the campaign is topped up,
paused, changed, its day is over) or loses it (a flush): whatever was not spent returns
to the campaign in the same transaction that fixes the grant's `final_millis`.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from adnet.core import clock
from adnet.core.money import MILLIS_PER_ATOMIC
from campaigns import budget
from campaigns.matching import engine
from campaigns.models import BudgetGrant, Campaign

logger = logging.getLogger(__name__)

# A campaign that could not get a grant (nothing left today, or not yet by its pace) is
# asked again after this long, not on every request.
NO_BUDGET_BACKOFF_SECONDS = 5
# A grant Redis does not know about is left alone this long: its credit may be in flight.
UNKNOWN_GRACE_SECONDS = 60

_TAKE = """
WITH cur AS (
    SELECT id, floor(LEAST(
        %(size)s::numeric,
        budget_total::numeric * {m} - spent_millis - held_millis,
        budget_daily::numeric * {m} - (CASE WHEN day = %(day)s
            THEN day_spent_millis + day_held_millis ELSE 0 END),
        CASE WHEN pacing = 'even' THEN
            LEAST(budget_daily::numeric * {m},
                  floor(budget_daily::numeric * {m} * %(elapsed)s / 86400))
            - (CASE WHEN day = %(day)s THEN day_spent_millis + day_held_millis ELSE 0 END)
        ELSE %(size)s::numeric END
    ) / %(hold)s) * %(hold)s AS amount
    FROM {table}
    WHERE id = %(id)s AND status = 'active' AND schedule_start <= %(now)s
      AND (schedule_end IS NULL OR schedule_end > %(now)s)
      AND (day IS NULL OR day <= %(day)s)
    FOR UPDATE
)
UPDATE {table} AS c SET
    held_millis = c.held_millis + cur.amount,
    day_held_millis = CASE WHEN c.day = %(day)s THEN c.day_held_millis + cur.amount
        ELSE cur.amount END,
    day_spent_millis = CASE WHEN c.day = %(day)s THEN c.day_spent_millis ELSE 0 END,
    day = %(day)s
FROM cur
WHERE c.id = cur.id AND cur.amount >= %(hold)s
RETURNING cur.amount
"""


def _elapsed_seconds(now: dt.datetime) -> int:
    start, _ = clock.day_bounds(clock.utc_day(now))
    return int((now - start).total_seconds()) + settings.PACING_LOOKAHEAD_SECONDS


def _take(campaign_id: str, hold: int, size: int, now: dt.datetime) -> int:
    """Lend up to `size` millis (whole holds) of the campaign's budget: one statement."""
    sql = _TAKE.format(table=Campaign._meta.db_table, m=MILLIS_PER_ATOMIC)
    day = clock.utc_day(now)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "size": size,
                "day": day,
                "elapsed": _elapsed_seconds(now),
                "hold": hold,
                "id": campaign_id,
                "now": now,
            },
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _size(hold: int, previous: BudgetGrant | None, spent: int | None, now: dt.datetime) -> int:
    """About GRANT_TARGET_SECONDS of the campaign's recent delivery, in whole holds."""
    low, high = hold * settings.GRANT_MIN_HOLDS, hold * settings.GRANT_MAX_HOLDS
    if previous is None or spent is None:
        return low
    seconds = max((now - previous.created_at).total_seconds(), 0.05)
    wanted = int(spent / seconds * settings.GRANT_TARGET_SECONDS)
    return max(low, min(high, wanted // hold * hold))


def close(grant_id: int, left: int | None, now: dt.datetime) -> int:
    """Close a grant and give back what it did not spend. `left` is what Redis had not
    spent of it, or None when Redis does not know it (never credited, or flushed): then
    only what already reached PostgreSQL counts as spent. Returns the millis given back."""
    return _fix_final(grant_id, now, left=left, open_only=True)


def _fix_final(grant_id: int, now: dt.datetime, *, left: int | None, open_only: bool) -> int:
    """Fix what a grant spent (its granted amount less `left`; with None, what was written)
    and give the rest back to its campaign, in one transaction. A closed grant's final
    amount only ever goes down (open_only=False: settling a flushed store's grants)."""
    with transaction.atomic():
        rows = BudgetGrant.objects.select_for_update().filter(pk=grant_id)
        row = (rows.filter(closed_at=None) if open_only else rows).first()
        if row is None:
            return 0
        cap = row.granted_millis if row.final_millis is None else row.final_millis
        final = row.used_millis if left is None else row.granted_millis - left
        final = max(row.used_millis, min(final, cap))
        back = cap - final
        BudgetGrant.objects.filter(pk=grant_id).update(
            final_millis=final, closed_at=row.closed_at or now
        )
        if back:
            from campaigns.services import on_day

            Campaign.objects.filter(pk=row.campaign_id).update(
                held_millis=F("held_millis") - back,
                day_held_millis=on_day(row.day, "day_held_millis", -back),
            )
    return back


def forget_old_epochs(*, epoch: str, now: dt.datetime, campaign_id: str | None = None) -> int:
    """Grants of a Redis store that was flushed: whatever of them had not reached
    PostgreSQL is gone, so each is closed (or, if closed already, settled) at what did, and
    the rest goes back to its campaign. Returns how many grants it changed."""
    stale = BudgetGrant.objects.exclude(epoch=epoch).filter(
        Q(closed_at=None) | Q(final_millis__gt=F("used_millis"))
    )
    if campaign_id is not None:
        stale = stale.filter(campaign_id=campaign_id)
    changed = 0
    for grant_id in stale.values_list("id", flat=True):
        _fix_final(grant_id, now, left=None, open_only=False)
        changed += 1
    return changed


def _live_hold(campaign_id: str) -> int | None:
    """The hold of one placement of the campaign, or None if it is not active."""
    row = (
        Campaign.objects.filter(pk=campaign_id)
        .values("bid_strategy", "max_bid_amount", "status")
        .first()
    )
    if row is None or row["status"] != Campaign.Status.ACTIVE:
        return None
    return engine.hold_millis(row["bid_strategy"], row["max_bid_amount"])


def _lend(
    campaign_id: str, hold: int, size: int, epoch: str, now: dt.datetime
) -> BudgetGrant | None:
    """Lend up to `size` millis as a new grant (not yet live in Redis), or None if nothing
    may be lent now."""
    with transaction.atomic():
        amount = _take(campaign_id, hold, size, now)
        if not amount:
            return None
        return BudgetGrant.objects.create(
            campaign_id=campaign_id,
            epoch=epoch,
            day=clock.utc_day(now),
            hold_millis=hold,
            granted_millis=amount,
            created_at=now,
        )


def refill(campaign_id: str, *, now: dt.datetime | None = None) -> bool:
    """Replace the campaign's live grant with a fresh one sized to its recent delivery.

    True if the campaign has a live grant afterwards. Called by the request that found the
    campaign without a grant of today (the match script lets only one request at a time do
    it), after the answer of one that took it below its low mark or found it spent
    (campaigns.services.refills_after_answer), and by the top-up task. A live grant of
    today is replaced in one step (`_renew`); otherwise the old one is retired first.
    """
    now = now or clock.now()
    live = budget.live_grant(campaign_id)
    if live is not None and live[1] == clock.utc_day(now).isoformat():
        renewed = _renew(campaign_id, live[0], live[2], now)
        if renewed is not None:
            return renewed
    old_id, left, epoch = budget.retire(campaign_id=campaign_id)
    if not epoch:
        epoch = budget.ensure_epoch()
    # After a flush, this campaign's budget may still sit in grants Redis no longer has.
    forget_old_epochs(epoch=epoch, now=now, campaign_id=campaign_id)
    previous = spent = None
    if old_id is not None:
        close(old_id, left, now)
        previous = BudgetGrant.objects.filter(pk=old_id).first()
        if previous is not None and left is not None:
            spent = previous.granted_millis - left
    hold = _live_hold(campaign_id)
    if hold is None:
        return False
    if previous is None:
        previous = BudgetGrant.objects.filter(campaign_id=campaign_id).order_by("-id").first()
    day = clock.utc_day(now)
    grant = _lend(campaign_id, hold, _size(hold, previous, spent, now), epoch, now)
    if grant is None:
        budget.release_refill_claim(
            campaign_id,
            day.isoformat(),
            pause_until_ms=budget.epoch_ms(now) + NO_BUDGET_BACKOFF_SECONDS * 1000,
        )
        from campaigns.services import mark_exhausted_if_spent

        mark_exhausted_if_spent(campaign_id=campaign_id, now=now)
        return False
    credited = budget.credit(
        campaign_id=campaign_id,
        grant_id=grant.id,
        day=day.isoformat(),
        amount=grant.granted_millis,
        low=grant.granted_millis // 2,
        epoch=epoch,
    )
    if credited != 1:
        # The store changed under us (a flush) or another grant went live first.
        close(grant.id, None, now)
        return credited == -1
    return True


def _renew(campaign_id: str, old_id: int, avail: int, now: dt.datetime) -> bool | None:
    """Top up today's live grant without taking it out of use first: the new grant is lent
    while the old one still spends, then replaces it in Redis in one step, and the old one
    is closed at what it had left then. Requests in between place from the old grant; with
    retire-then-credit they found none (and, the refill claim being taken, placed nothing).
    None when this cannot be done so (the campaign is not live, has nothing more to lend
    while the old grant holds the rest, or the store changed): `refill` does it its way."""
    epoch = budget.current_epoch()
    previous = BudgetGrant.objects.filter(pk=old_id, epoch=epoch, closed_at=None).first()
    if not epoch or previous is None:
        return None
    hold = _live_hold(campaign_id)
    if hold is None or hold != previous.hold_millis:
        return None
    spent = max(previous.granted_millis - avail, 0)
    grant = _lend(campaign_id, hold, _size(hold, previous, spent, now), epoch, now)
    if grant is None:
        return None
    status, left = budget.swap(
        campaign_id=campaign_id,
        old=old_id,
        grant_id=grant.id,
        day=grant.day.isoformat(),
        amount=grant.granted_millis,
        low=grant.granted_millis // 2,
        epoch=epoch,
    )
    if status != 1:
        close(grant.id, None, now)  # never live: all of it goes back
        return None if status == -1 else False
    close(old_id, left, now)
    return True


def retire_campaign(campaign_id: str, *, now: dt.datetime | None = None) -> int:
    """Take the campaign's live grant out of Redis and give back what it had left (a
    campaign that is paused, changed or done). Best effort: if Redis is unreachable, the
    reaper does it later. Returns the millis given back."""
    if not budget.enabled():
        return 0
    now = now or clock.now()
    try:
        grant_id, left, _ = budget.retire(campaign_id=str(campaign_id))
        budget.release_refill_claim(str(campaign_id), clock.utc_day(now).isoformat())
    except budget.redis.RedisError:
        logger.warning("could not retire the grant of campaign %s; the reaper will", campaign_id)
        return 0
    return close(grant_id, left, now) if grant_id is not None else 0


def budget_freed(freed, *, now: dt.datetime | None = None) -> None:
    """Budget came back to these campaigns (holds released): a refill that found none may
    be tried again at once. `freed` holds (campaign id, hold day) pairs; the pauses of the
    hold's day and of `now`'s day are cleared (a hold of yesterday frees the total budget
    today). Best effort."""
    if not budget.enabled():
        return
    today = clock.utc_day(now or clock.now())
    pauses = {
        (str(campaign_id), day.isoformat())
        for campaign_id, hold_day in freed
        for day in (today, hold_day)
    }
    try:
        for campaign_id, day in sorted(pauses):
            budget.release_refill_claim(campaign_id, day)
    except budget.redis.RedisError:
        logger.warning("could not clear refill pauses; they run out by themselves")


def top_up(*, now: dt.datetime | None = None) -> int:
    """Refill the grants the match script found half spent. Returns how many it renewed."""
    now = now or clock.now()
    day = clock.utc_day(now).isoformat()
    renewed = 0
    for campaign_id in budget.pop_refills():
        # The request that listed it may have topped it up already, after its answer
        # (campaigns.services.refills_after_answer), or be doing so (the same claim).
        if not budget.below_low_mark(campaign_id, day):
            continue
        if budget.claim_refill(campaign_id, day, budget.epoch_ms(now)):
            try:
                renewed += refill(campaign_id, now=now)
            except Exception:
                budget.release_refill_claim(campaign_id, day)
                raise
    return renewed


def reap(*, now: dt.datetime | None = None) -> int:
    """Close the grants that can no longer be spent: of an older epoch (Redis was flushed),
    of an earlier day, of a campaign no longer active, or unknown to Redis. Returns how
    many it closed."""
    now = now or clock.now()
    epoch = budget.ensure_epoch()
    today = clock.utc_day(now)
    store = budget.store()
    open_grants = list(
        BudgetGrant.objects.filter(closed_at=None)
        .select_related(None)
        .values_list("id", "campaign_id", "epoch", "day", "created_at", "campaign__status")
    )
    pipe = store.redis.pipeline(transaction=False)
    for _, campaign_id, *_ in open_grants:
        pipe.hget(store.key(f"a:{campaign_id}"), "grant")
    live = [budget._text(value) for value in pipe.execute()] if open_grants else []
    closed = forget_old_epochs(epoch=epoch, now=now)
    for (grant_id, campaign_id, grant_epoch, day, created_at, status), live_id in zip(
        open_grants, live, strict=True
    ):
        if grant_epoch != epoch:
            continue
        if live_id == str(grant_id) and day == today and status == Campaign.Status.ACTIVE:
            continue
        found, left, _ = budget.retire(campaign_id=str(campaign_id), grant_id=grant_id)
        if found is not None:
            close(grant_id, left, now)
            closed += 1
        elif (now - created_at).total_seconds() > UNKNOWN_GRACE_SECONDS:
            close(grant_id, None, now)
            closed += 1
    return closed


def outstanding_by_campaign() -> dict:
    """Millis each campaign has lent out and not yet seen placed: part of its held_millis."""
    totals: dict = {}
    for campaign_id, granted, final, used in BudgetGrant.objects.filter(
        used_millis__lt=F("granted_millis")
    ).values_list("campaign_id", "granted_millis", "final_millis", "used_millis"):
        left = (granted if final is None else final) - used
        if left:
            totals[campaign_id] = totals.get(campaign_id, 0) + left
    return totals
