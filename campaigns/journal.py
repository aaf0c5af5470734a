"""Matching's records, from the Redis stream into PostgreSQL in batches.

The match script appends one entry per answered request to the `journal` stream: the
observed settlement, and the placement if a campaign paid for one. The worker drains the
stream every second (campaigns.tasks.drain_journal); anything that needs a placement before
then (a beacon, a click, a settlement event) drains it on the spot (`await_placement`).

A batch is written in one transaction and removed from the stream once it has committed.
Each observed settlement is written as checked for conversions when no placement still open
for attribution recommended the paid resource to that payer (most of them); billing's
attribution sweep checks the rest.

Every request carries its own id (MatchRequest.uid, also the placement's id), so a batch
written twice (a drainer that died between commit and removal) is written once.

The same transaction turns the grant money the placements spent into placement holds
(BudgetGrant.used_millis, one conditional UPDATE per grant), and counts each payer's
placements per campaign and day in PostgreSQL. A placement over its frequency cap (which
only a flushed Redis could allow) or beyond what its grant may still cover (a grant closed
after a flush) is written without a hold, so it can never bill: under-delivery, never an
overcharge.
"""

import datetime as dt
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F

from campaigns import budget, selectors
from campaigns.matching import engine
from campaigns.models import (
    BudgetGrant,
    Campaign,
    MatchRequest,
    PayerDailyCount,
    Placement,
    TxClaim,
)

logger = logging.getLogger(__name__)

LOCK_SECONDS = 120
# A batch is read from the stream in pieces this long: Redis answers one command at a time,
# and XRANGE of 2,000 entries (about 1 MB) held it, and every match behind it, for up to
# 2.3 ms (540 µs on average); reads of 250 took at most 0.72 ms in the same benchmark
# (docs/benchmarks.md).
READ_CHUNK = 250

# Every column a placement row is written with, in the order _write builds its rows.
PLACEMENT_COLUMNS = (
    "id",
    "campaign",
    "facilitator",
    "match_request",
    "payer",
    "network",
    "transport",
    "resource_url",
    "conversion_resource",
    "conversion_key",
    "bid_strategy",
    "billing_event",
    "price_millis",
    "hold_millis",
    "hold_day",
    "state",
    "matched_at",
    "expires_at",
    "attribution_deadline",
    "release_at",
    "original_tx_hash",
    "billed_millis",
)


# --- What the match path writes ----------------------------------------------------------------


def request_record(
    *,
    uid: uuid.UUID,
    facilitator_id: uuid.UUID,
    received_at: dt.datetime,
    settlement: engine.Settlement,
    settled_amount: int,
    tx_hash: str,
) -> str:
    return json.dumps(
        [
            uid.hex,
            facilitator_id.hex,
            int(received_at.timestamp() * 1_000_000),
            settlement.resource_url,
            settlement.description[:1000],
            settlement.network,
            settlement.payer,
            str(settled_amount),
            settlement.transport,
            tx_hash,
        ],
        separators=(",", ":"),
    )


def placement_detail(campaign: Campaign, billing_event: str) -> str:
    """What a placement of this campaign for this billing event needs besides the request."""
    from campaigns.services import conversion_key, lifetime, waits_for_evidence

    return json.dumps(
        [
            billing_event,
            campaign.bid_strategy,
            int(lifetime(campaign, billing_event).total_seconds()),
            campaign.attribution_window_seconds,
            int(waits_for_evidence(campaign, billing_event)),
            campaign.rec_resource_url,
            conversion_key(campaign.rec_resource_url),
        ],
        separators=(",", ":"),
    )


# --- Draining ------------------------------------------------------------------------------------


@dataclass
class _Placed:
    uid: str  # the request's (and placement's) id, as hex
    campaign_id: str  # as the snapshot wrote it (str of the UUID)
    grant_id: int
    hold: int
    cap: int
    detail: list
    request: list


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def drain(*, wait_seconds: float = 0.0, limit: int | None = None) -> int:
    """Write what the stream holds to PostgreSQL. Returns how many entries were written.

    One drainer at a time (a Redis lock); `wait_seconds` waits for a running one to finish
    and then drains what is left. Entries leave the stream once their batch has committed.
    """
    store = budget.store()
    limit = limit or settings.JOURNAL_BATCH
    lock = store.redis.lock(store.key("journal:lock"), timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=wait_seconds > 0, blocking_timeout=wait_seconds or None):
        return 0
    written = 0
    try:
        stream = store.key("journal")
        while True:
            entries = _read(store, stream, limit)
            if not entries:
                break
            with transaction.atomic():
                _write(entries)
            # Removed once written. The worker and the services that drain on demand do it
            # outside any transaction of theirs, so "written" means committed; a caller that
            # drains inside its own transaction answers for it (tests do, and roll back).
            # The batch is the head of the stream up to its last id (one drainer at a time,
            # ids only grow), so it goes by trimming below the next id: XDEL of 2,000 ids
            # held Redis, and every match waiting on it, for about a millisecond.
            store.redis.xtrim(stream, minid=_after(entries[-1][0]), approximate=False)
            written += len(entries)
            if len(entries) < limit:
                break
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - expired or lost lock: the next drainer takes over
            logger.warning("journal lock was lost while draining")
    return written


def _read(store, stream: str, limit: int) -> list:
    """The head of the stream, up to `limit` entries, in pieces of READ_CHUNK."""
    entries: list = []
    start = "-"
    while len(entries) < limit:
        want = min(READ_CHUNK, limit - len(entries))
        chunk = store.redis.xrange(stream, min=start, count=want)
        entries += chunk
        if len(chunk) < want:
            break
        start = _after(chunk[-1][0])  # what follows the last one read
    return entries


def _after(entry_id) -> str:
    """The smallest stream id greater than `entry_id`."""
    milliseconds, sequence = _text(entry_id).split("-")
    return f"{milliseconds}-{int(sequence) + 1}"


def oldest_pending() -> dt.datetime | None:
    """When the oldest request still waiting in the stream was recorded (None: none waits)."""
    store = budget.store()
    first = store.redis.xrange(store.key("journal"), count=1)
    if not first:
        return None
    milliseconds = int(_text(first[0][0]).split("-")[0])
    return dt.datetime.fromtimestamp(milliseconds / 1000, tz=dt.UTC)


def await_placement(placement_id: uuid.UUID) -> bool:
    """True once the placement is in PostgreSQL, draining the stream for it if needed;
    False if there is no such placement. Raises RedisError if the stream cannot be read
    (the placement may be waiting in it: callers that can, try again later)."""
    if Placement.objects.filter(pk=placement_id).exists():
        return True
    if not budget.enabled():
        return False
    drain(wait_seconds=2.0)
    return Placement.objects.filter(pk=placement_id).exists()


def catch_up() -> None:
    """Drain what is waiting, if there is a stream and it can be read (best effort)."""
    if not budget.enabled():
        return
    try:
        drain(wait_seconds=2.0)
    except budget.redis.RedisError:
        logger.warning("journal unreachable: working from what PostgreSQL already has")


def _parse(entries) -> tuple[list[list], list[_Placed]]:
    # Field names as Redis returns them (bytes): decoding each name of each entry took
    # about a tenth of the worker's time.
    fields = [raw for _, raw in entries]
    # The JSON texts of the whole batch, decoded by one call into the decoder's C code.
    requests = _decoded([item[b"r"] for item in fields])
    with_placement = [
        (item, record) for item, record in zip(fields, requests, strict=True) if b"c" in item
    ]
    details = _decoded([item[b"d"] for item, _ in with_placement])
    placed = [
        _Placed(
            uid=record[0],
            campaign_id=item[b"c"].decode(),
            grant_id=int(item[b"g"]),
            hold=int(item[b"h"]),
            cap=int(item[b"k"]),
            detail=detail,
            request=record,
        )
        for (item, record), detail in zip(with_placement, details, strict=True)
    ]
    return requests, placed


def _decoded(texts: list) -> list:
    """Each JSON text decoded, in order (bytes from Redis, or str)."""
    if not texts:
        return []
    joined = b",".join(text if isinstance(text, bytes) else text.encode() for text in texts)
    return json.loads(b"[" + joined + b"]")


def _insert(model, names: tuple[str, ...], rows: list[tuple], suffix: str = "") -> list:
    """INSERT rows (tuples in the order of `names`) in one statement; what RETURNING gives.
    Timestamps are given as whole microseconds since the epoch, dates as ISO text.

    The batch goes as one JSON parameter that PostgreSQL takes apart itself
    (`jsonb_array_elements`, each field cast to its column's type; jsonb, parsed once, where
    plain json would parse a row's text again for every field taken from it, which doubled
    the cost of a placement's insert): the statement's text
    stays the same whatever the batch size, and encoding the batch is one call into the
    JSON encoder's C code, where the driver would adapt every value on its own in Python
    (a third of the worker's time at 1,800 matches/s). PostgreSQL only, like the rest of
    the Redis budget store (settings.MATCH_BUDGET_STORE).
    """
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(field.column for field in fields)
    values = ", ".join(_value_sql(i, field) for i, field in enumerate(fields))
    table = model._meta.db_table
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {values} "  # noqa: S608
        f"FROM jsonb_array_elements(%s::jsonb) AS r {suffix}"
    )
    with connection.cursor() as cursor:
        # Plain values only (no encoder callback: a stray object is a TypeError).
        cursor.execute(sql, [json.dumps(rows, separators=(",", ":"))])
        return cursor.fetchall() if "RETURNING" in suffix else []


def _value_sql(i: int, field) -> str:
    if isinstance(field, models.DateTimeField):
        return f"(timestamptz 'epoch' + (r->>{i})::bigint * interval '1 microsecond')"
    return f"(r->>{i})::{field.db_type(connection)}"


_EPOCH_DAY = dt.date(1970, 1, 1)


def _day(micros: int, days: dict[int, str]) -> str:
    """The UTC day (ISO) of a moment in microseconds since the epoch; `days` memoizes."""
    number = micros // 86_400_000_000
    found = days.get(number)
    if found is None:
        found = days[number] = (_EPOCH_DAY + dt.timedelta(days=number)).isoformat()
    return found


def _cannot_convert(requests: list[list], placed: list[_Placed]) -> set[str]:
    """The uids of the requests whose settlement cannot be a conversion: no placement still
    open for attribution, in PostgreSQL or in this batch, recommended the paid resource to
    that payer. They are written as already checked; billing's attribution sweep checks the
    others (the same test it applies first to what it reads)."""
    from campaigns.services import conversion_key

    keys: dict[str, tuple[str, str, str]] = {}
    key_of: dict[str, str] = {}
    for uid, _, _, url, _, network, payer, *_ in requests:
        if url not in key_of:
            key_of[url] = conversion_key(url)
        keys[uid] = (payer, network, key_of[url])
    oldest = dt.datetime.fromtimestamp(min(request[2] for request in requests) / 1e6, tz=dt.UTC)
    touches = {(item.request[6], item.request[5], item.detail[6]) for item in placed}
    touches |= selectors.open_touches(set(keys.values()) - touches, oldest)
    return {uid for uid, key in keys.items() if key not in touches}


def _insert_requests(requests: list[list], placed: list[_Placed]) -> dict[str, int]:
    """Insert the requests not yet written; their ids by uid."""
    if not requests:
        return {}
    placed_uids = {item.uid for item in placed}
    checked = _cannot_convert(requests, placed)
    rows = [
        (
            uid,
            facilitator,
            micros,
            url,
            description,
            network,
            payer,
            int(amount),
            transport,
            tx,
            uid in placed_uids,
            uid in checked,
        )
        for uid, facilitator, micros, url, description, network, payer, amount, transport, tx in (
            requests
        )
    ]
    names = (
        "uid",
        "facilitator",
        "received_at",
        "resource_url",
        "resource_description",
        "network",
        "payer",
        "settled_amount",
        "transport",
        "tx_hash",
        "matched",
        "attributed",
    )
    # The uid comes back as the hex text the journal uses (no UUID object per row).
    returned = _insert(
        MatchRequest,
        names,
        rows,
        "ON CONFLICT (uid) DO NOTHING RETURNING id, replace(uid::text, '-', '')",
    )
    return {uid: pk for pk, uid in returned}


def _over_cap(placed: list[_Placed], days: dict[int, str]) -> set[str]:
    """Count each payer's placements per campaign and UTC day in PostgreSQL; the placements
    that went past their campaign's cap."""
    groups: dict[tuple, list[_Placed]] = defaultdict(list)
    for item in placed:
        groups[(item.campaign_id, item.request[6], _day(item.request[2], days))].append(item)
    if not groups:
        return set()
    table = PayerDailyCount._meta.db_table
    # Each group goes with the cap its first placement was matched under, and only the
    # groups now past it come back (none unless Redis lost its counts): reading every
    # counter back into Python cost the worker a few microseconds per record.
    rows = [
        (campaign_id, payer, day, len(items), items[0].cap)
        for (campaign_id, payer, day), items in groups.items()
    ]
    # The batch's fields cast as _insert casts them, from the model's own column types.
    fields = [PayerDailyCount._meta.get_field(name) for name in ("campaign", "payer", "day")]
    columns = ", ".join(
        f"{_value_sql(i, field)} AS {field.column}" for i, field in enumerate(fields)
    )
    sql = (
        f"WITH batch AS (SELECT {columns}, (r->>3)::integer AS added, "  # noqa: S608
        "(r->>4)::bigint AS cap FROM jsonb_array_elements(%s::jsonb) AS r), "
        f"counted AS (INSERT INTO {table} (campaign_id, payer, day, count) "
        "SELECT campaign_id, payer, day, added FROM batch "
        f"ON CONFLICT (campaign_id, payer, day) DO UPDATE SET count = {table}.count + "
        "EXCLUDED.count RETURNING campaign_id, payer, day, count) "
        "SELECT counted.campaign_id::text, counted.payer, "
        "to_char(counted.day, 'YYYY-MM-DD'), counted.count - batch.cap "
        "FROM counted JOIN batch USING (campaign_id, payer, day) "
        "WHERE counted.count > batch.cap"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, separators=(",", ":"))])
        returned = cursor.fetchall()
    over: set[str] = set()
    for campaign_id, payer, day, excess in returned:
        items = groups[(campaign_id, payer, day)]
        over.update(item.uid for item in items[-excess:])
    return over


def _write(entries) -> None:
    requests, placed = _parse(entries)
    inserted = _insert_requests(requests, placed)
    placed = [item for item in placed if item.uid in inserted]
    if not placed:
        return

    days: dict[int, str] = {}
    over = _over_cap(placed, days)
    by_grant: dict[int, list[_Placed]] = defaultdict(list)
    for item in placed:
        by_grant[item.grant_id].append(item)
    void: set[str] = set()
    hold_day: dict[int, str] = {}
    from campaigns.services import on_day

    for grant_id, items in by_grant.items():
        spent = sum(item.hold for item in items)
        with connection.cursor() as cursor:
            table = BudgetGrant._meta.db_table
            cursor.execute(
                f"UPDATE {table} SET used_millis = used_millis + %s "  # noqa: S608
                "WHERE id = %s AND used_millis + %s <= COALESCE(final_millis, granted_millis) "
                "RETURNING day",
                [spent, grant_id, spent],
            )
            row = cursor.fetchone()
        if row is None:
            logger.warning(
                "grant %s cannot cover %d placements: written without holds", grant_id, len(items)
            )
            void.update(item.uid for item in items)
            continue
        day = row[0]
        hold_day[grant_id] = day.isoformat()
        capped = [item for item in items if item.uid in over]
        back = sum(item.hold for item in capped)
        if back:
            # Past the frequency cap: the hold goes straight back to the campaign.
            Campaign.objects.filter(pk=items[0].campaign_id).update(
                held_millis=F("held_millis") - back,
                day_held_millis=on_day(day, "day_held_millis", -back),
            )
            logger.warning(
                "%d placements past their frequency cap written without holds", len(capped)
            )
    void |= over
    originals = _claim_originals(placed)
    from campaigns.services import release_at

    rows = []
    for item in placed:
        event, strategy, lifetime, window, waits, resource, key = item.detail
        at = item.request[2]
        expires_at = at + lifetime * 1_000_000
        deadline = at + window * 1_000_000
        voided = item.uid in void
        request = item.request
        rows.append(
            (
                item.uid,
                item.campaign_id,
                request[1],
                inserted[item.uid],
                request[6],
                request[5],
                request[8],
                request[3],
                resource,
                key,
                strategy,
                event,
                item.hold,
                0 if voided else item.hold,
                hold_day.get(item.grant_id) or _day(at, days),
                Placement.State.EXPIRED.value if voided else Placement.State.MATCHED.value,
                at,
                expires_at,
                deadline,
                release_at(bool(waits), expires_at, deadline, micros=True),
                originals.get(item.uid, ""),
                0,
            )
        )
    _insert(Placement, PLACEMENT_COLUMNS, rows)


def _claim_originals(placed: list[_Placed]) -> dict[str, str]:
    """The settlement that carried each recommendation, claimed in its role once (the
    placements are inserted later in the same transaction: the foreign key is deferred).
    Returns the hash each placement won."""
    claims = [
        (item.request[5], item.request[9], TxClaim.Role.ORIGINAL.value, item.uid, item.request[2])
        for item in placed
        if item.request[9]
    ]
    if not claims:
        return {}
    names = ("network", "tx_hash", "role", "placement", "claimed_at")
    _insert(TxClaim, names, claims, "ON CONFLICT DO NOTHING")
    won = TxClaim.objects.filter(
        role=TxClaim.Role.ORIGINAL, placement_id__in=[claim[3] for claim in claims]
    ).values_list("placement_id", "tx_hash")
    return {placement_id.hex: tx_hash for placement_id, tx_hash in won}
