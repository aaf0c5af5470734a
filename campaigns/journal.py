"""Matching's records, from the Redis stream into PostgreSQL in batches.

The match script appends one entry per answered request to the `journal` stream: the
observed settlement, and the placement if a campaign paid for one. The worker drains the
stream every second (campaigns.tasks.drain_journal); anything that needs a placement before
then (a beacon, a click, a settlement event) drains it on the spot (`await_placement`).

A batch is written in one transaction and removed from the stream once it has committed.
Records are named and versioned (RequestRecord, PlacementTerms, JSON in the stream entry)
and carry the deployment's identity. A record that cannot be decoded, is of an unknown
version or of another deployment, or that PostgreSQL refuses (found by writing a refused
batch again in halves, in savepoints) is set aside with its reason (JournalSetAside) and
the rest of the batch is written: one bad record never stops delivery.
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
from dataclasses import dataclass, fields
from typing import NamedTuple

from django.conf import settings
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import F

from adnet.core import clock
from campaigns import budget, deployment, selectors
from campaigns.matching import engine
from campaigns.models import (
    BudgetGrant,
    Campaign,
    JournalSetAside,
    MatchRequest,
    PayerDailyCount,
    Placement,
    TxClaim,
)
from campaigns.terms import conversion_key, lifetime, on_day, release_at, waits_for_evidence
from facilitators.models import Facilitator

logger = logging.getLogger(__name__)

LOCK_SECONDS = 120
# A batch is read from the stream in pieces this long: Redis answers one command at a time,
# and a long XRANGE holds every match behind it (docs/benchmarks.md).
READ_CHUNK = 250

# The version of the records below. A record of any other version is set aside, not guessed
# at: a new version is read by code that knows it, deployed before anything writes it.
RECORD_VERSION = 1

# What PostgreSQL (or the rows built from a record) may refuse in one record: the batch
# is then written in halves, down to the record that fails alone, which is set aside.
# Anything else (a lost connection, a timeout) fails the drain and leaves the stream as
# it is, to be drained again.
_REFUSED = (DataError, IntegrityError, ValueError, TypeError, OverflowError)


# --- The records ---------------------------------------------------------------------------------
# The stream entry the match script appends has named fields: `r`, the request record (JSON);
# for a placement also `c` (campaign id), `g` (grant id), `h` (hold, millis), `k` (the
# frequency cap it was matched under) and `d`, the placement's terms (JSON).


@dataclass
class RequestRecord:
    """One answered /v1/match (stream field `r`), written as a MatchRequest."""

    uid: str  # the request's (and its placement's) id, as hex
    facilitator: str  # as hex
    at: int  # when it was received, microseconds since the epoch
    url: str
    description: str
    network: str
    payer: str
    amount: str  # settled, atomic units as a digit string
    transport: str
    tx: str
    deployment: str  # campaigns.deployment: records of another deployment are set aside

    def encode(self) -> str:
        return json.dumps({"v": RECORD_VERSION, **self.__dict__}, separators=(",", ":"))


@dataclass
class PlacementTerms:
    """What a placement of one campaign for one billing event needs besides its request
    (stream field `d`; made once per campaign and event in each catalog snapshot)."""

    event: str  # the billing event
    strategy: str  # the campaign's bid strategy
    lifetime: int  # seconds the placement may bill (terms.lifetime)
    window: int  # attribution window, seconds
    waits: bool  # its hold waits for conversion evidence (terms.waits_for_evidence)
    resource: str  # the conversion resource: the campaign's recommended resource
    key: str  # its conversion key

    def encode(self) -> str:
        return json.dumps({"v": RECORD_VERSION, **self.__dict__}, separators=(",", ":"))


@dataclass
class Record:
    """One stream entry, decoded by name."""

    entry_id: str
    entry: dict  # the raw fields, kept to set the entry aside
    request: RequestRecord
    campaign: str | None = None  # None: no placement
    grant: int = 0
    hold: int = 0
    cap: int = 0
    terms: PlacementTerms | None = None


class Refused(Exception):
    """A stream entry that cannot be written, and why (a JournalSetAside reason)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _typed(cls, obj) -> dict:
    """The fields of `cls` from a decoded JSON object, each of its declared type."""
    if isinstance(obj, list):
        obj = _version_zero(cls, obj)
    if not isinstance(obj, dict):
        raise Refused(JournalSetAside.Reason.UNDECODABLE, "not a JSON object")
    if obj.get("v") != RECORD_VERSION:
        raise Refused(JournalSetAside.Reason.UNKNOWN_VERSION, repr(obj.get("v"))[:64])
    values = {}
    for name, kind in _TYPES[cls]:
        value = obj.get(name)
        if type(value) is not kind:
            raise Refused(JournalSetAside.Reason.UNDECODABLE, f"{name} is not {kind.__name__}")
        values[name] = value
    return values


_TYPES = {cls: [(f.name, f.type) for f in fields(cls)] for cls in (RequestRecord, PlacementTerms)}


def _version_zero(cls, values: list) -> dict:
    """A record written before records had names and versions: a list of the fields in the
    order of the class's (without the deployment, which is taken to be this one). Read so
    that an upgrade while the stream holds such records loses none of them."""
    names = [name for name, _ in _TYPES[cls] if name != "deployment"]
    if len(values) != len(names):
        raise Refused(JournalSetAside.Reason.UNDECODABLE, "version 0 record of another length")
    named = dict(zip(names, values, strict=True))
    if cls is RequestRecord:
        named["deployment"] = deployment.current()
    else:
        named["waits"] = bool(named["waits"])  # written as 0 or 1
    return {"v": RECORD_VERSION, **named}


# Rows as the drain inserts them: each tuple's field names are the model's, in the order of
# the INSERT's columns (one definition for both).
class RequestRow(NamedTuple):
    uid: str
    facilitator: str
    received_at: int
    resource_url: str
    resource_description: str
    network: str
    payer: str
    settled_amount: int
    transport: str
    tx_hash: str
    matched: bool
    attributed: bool


class PlacementRow(NamedTuple):
    id: str
    campaign: str
    facilitator: str
    match_request: int
    payer: str
    network: str
    transport: str
    resource_url: str
    conversion_resource: str
    conversion_key: str
    bid_strategy: str
    billing_event: str
    price_millis: int
    hold_millis: int
    hold_day: str
    state: str
    matched_at: int
    expires_at: int
    attribution_deadline: int
    release_at: int
    original_tx_hash: str
    billed_millis: int


class ClaimRow(NamedTuple):
    network: str
    tx_hash: str
    role: str
    placement: str
    claimed_at: int


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
    return RequestRecord(
        uid=uid.hex,
        facilitator=facilitator_id.hex,
        at=int(received_at.timestamp() * 1_000_000),
        url=settlement.resource_url,
        description=settlement.description[:1000],
        network=settlement.network,
        payer=settlement.payer,
        amount=str(settled_amount),
        transport=settlement.transport,
        tx=tx_hash,
        deployment=deployment.current(),
    ).encode()


def placement_detail(campaign: Campaign, billing_event: str) -> str:
    """What a placement of this campaign for this billing event needs besides the request."""
    return PlacementTerms(
        event=billing_event,
        strategy=campaign.bid_strategy,
        lifetime=int(lifetime(campaign, billing_event).total_seconds()),
        window=campaign.attribution_window_seconds,
        waits=waits_for_evidence(campaign, billing_event),
        resource=campaign.rec_resource_url,
        key=conversion_key(campaign.rec_resource_url),
    ).encode()


# --- Draining ------------------------------------------------------------------------------------


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def drain(*, wait_seconds: float = 0.0, limit: int | None = None) -> int:
    """Write what the stream holds to PostgreSQL, setting aside what cannot be written.
    Returns how many entries left the stream.

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
            _write(entries)
            # Removed once written or set aside. The worker and the services that drain on
            # demand do it outside any transaction of theirs, so "written" means committed;
            # a caller that drains inside its own transaction answers for it (tests do, and
            # roll back).
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


def _write(entries) -> None:
    """Write a batch read from the stream: in one transaction, and when PostgreSQL refuses
    it, in halves inside savepoints down to the records that fail alone. What cannot be
    decoded or written is set aside (JournalSetAside) in the same transaction as the rest."""
    records, aside = _decode(entries)
    records = _naming_known_rows(records, aside)
    try:
        with transaction.atomic():
            _write_records(records)
            _check_deferred()
            _set_aside(aside)
        return
    except _REFUSED as exc:
        logger.warning(
            "journal batch of %d refused (%s): isolating the bad records", len(records), exc
        )
    with transaction.atomic():
        _isolate(records, aside, split=True)
        _set_aside(aside)


def _isolate(records: list[Record], aside: list, *, split: bool = False) -> None:
    """Write `records` in a savepoint; if refused, each half the same way. A record refused
    on its own joins `aside`."""
    if not records:
        return
    if not split:
        try:
            with transaction.atomic():
                _write_records(records)
                _check_deferred()
            return
        except _REFUSED as exc:
            if len(records) == 1:
                aside.append(
                    (
                        records[0].entry_id,
                        records[0].entry,
                        Refused(JournalSetAside.Reason.REFUSED, f"{type(exc).__name__}: {exc}"),
                    )
                )
                return
    middle = len(records) // 2
    _isolate(records[:middle], aside)
    _isolate(records[middle:], aside)


def _naming_known_rows(records: list[Record], aside: list) -> list[Record]:
    """The records whose facilitator and campaign PostgreSQL has; the others are set aside
    (a Redis shared with another database, or a database restored from a backup): one query
    each for the whole batch, where finding them by halving could take one per record."""
    facilitators = _known(Facilitator, {r.request.facilitator for r in records})
    campaigns = _known(Campaign, {r.campaign for r in records if r.campaign is not None})
    kept = []
    for record in records:
        missing = (
            f"facilitator {record.request.facilitator}"
            if record.request.facilitator not in facilitators
            else f"campaign {record.campaign}"
            if record.campaign is not None and record.campaign not in campaigns
            else None
        )
        if missing is None:
            kept.append(record)
        else:
            refused = Refused(JournalSetAside.Reason.MISSING_ROW, f"no {missing}"[:200])
            aside.append((record.entry_id, record.entry, refused))
    return kept


def _known(model, spelt: set[str]) -> set[str]:
    """Which of these ids (as the records spell them) `model` has. An id that is not a UUID
    is kept as known: PostgreSQL refuses its record, which is then set aside."""
    ids: dict[uuid.UUID, str] = {}
    known = set()
    for text in spelt:
        try:
            ids[uuid.UUID(text)] = text
        except (ValueError, TypeError, AttributeError):
            known.add(text)
    if ids:
        found = model.objects.filter(pk__in=list(ids)).values_list("pk", flat=True)
        known.update(ids[pk] for pk in found)
    return known


def _check_deferred() -> None:
    """Check the deferred constraints (foreign keys) now, inside the savepoint or
    transaction that wrote the rows, rather than at a commit that may be a caller's."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _raw(entry: dict) -> bytes:
    """A stream entry's fields as bytes, `name=value` per line, as Redis held them."""
    return b"\n".join(
        (name if isinstance(name, bytes) else name.encode())
        + b"="
        + (value if isinstance(value, bytes) else str(value).encode())
        for name, value in entry.items()
    )


def _set_aside(aside: list) -> None:
    if not aside:
        return
    now = clock.now()
    JournalSetAside.objects.bulk_create(
        [
            JournalSetAside(
                entry_id=_text(entry_id),
                raw=_raw(entry),
                reason=refused.reason,
                error=refused.detail[:2000],
                set_aside_at=now,
            )
            for entry_id, entry, refused in aside
        ]
    )
    for entry_id, _, refused in aside:
        logger.error("journal entry %s set aside: %s", _text(entry_id), refused)


# --- Decoding ------------------------------------------------------------------------------------


def _decode(entries) -> tuple[list[Record], list]:
    """The entries decoded by name; those that cannot be (or are another deployment's) as
    (entry id, fields, Refused)."""
    # The JSON texts of the whole batch, decoded by one call into the decoder's C code;
    # one by one only if that fails.
    texts = [item.get(b"r") for _, item in entries]
    try:
        requests = _decoded(texts)
    except (ValueError, TypeError):
        requests = [_one(text) for text in texts]
    ours = deployment.current()
    terms: dict[bytes, PlacementTerms | Refused] = {}  # snapshots repeat them: decoded once
    campaigns: dict[bytes, str] = {}
    records: list[Record] = []
    aside: list = []
    for (entry_id, item), request in zip(entries, requests, strict=True):
        try:
            record = _record(entry_id, item, request, terms, campaigns)
            if record.request.deployment != ours:
                raise Refused(
                    JournalSetAside.Reason.OTHER_DEPLOYMENT, record.request.deployment[:64]
                )
        except Refused as refused:
            aside.append((entry_id, item, refused))
            continue
        records.append(record)
    return records, aside


_UNDECODABLE = object()


def _one(text):
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return _UNDECODABLE


def _record(entry_id, item: dict, request, terms: dict, campaigns: dict) -> Record:
    if request is _UNDECODABLE or request is None:
        raise Refused(JournalSetAside.Reason.UNDECODABLE, "request record")
    record = Record(_text(entry_id), item, RequestRecord(**_typed(RequestRecord, request)))
    campaign = item.get(b"c")
    if campaign is None:
        return record
    detail = item.get(b"d")
    found = terms.get(detail)
    if found is None:
        try:
            found = PlacementTerms(**_typed(PlacementTerms, json.loads(detail)))
        except Refused as refused:
            found = refused
        except (ValueError, TypeError):
            found = Refused(JournalSetAside.Reason.UNDECODABLE, "placement terms")
        terms[detail] = found
    if isinstance(found, Refused):
        raise found
    try:
        # In PostgreSQL's spelling, which the cap count's answer uses (campaigns are few).
        record.campaign = campaigns.get(campaign) or campaigns.setdefault(
            campaign, str(uuid.UUID(campaign.decode()))
        )
        record.grant = int(item[b"g"])
        record.hold = int(item[b"h"])
        record.cap = int(item[b"k"])
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise Refused(JournalSetAside.Reason.UNDECODABLE, f"placement: {exc}") from None
    record.terms = found
    return record


def _decoded(texts: list) -> list:
    """Each JSON text decoded, in order (bytes from Redis, or str)."""
    if not texts:
        return []
    joined = b",".join(text if isinstance(text, bytes) else text.encode() for text in texts)
    decoded = json.loads(b"[" + joined + b"]")
    if len(decoded) != len(texts):  # a text holding a comma-separated list of its own
        raise ValueError("records do not align")
    return decoded


# --- Writing -------------------------------------------------------------------------------------


def _insert(model, names: tuple[str, ...], rows: list[tuple], suffix: str = "") -> list:
    """INSERT rows (tuples in the order of `names`) in one statement; what RETURNING gives.
    Timestamps are given as whole microseconds since the epoch, dates as ISO text.

    The batch goes as one JSON parameter that PostgreSQL takes apart itself
    (`jsonb_array_elements`, each field cast to its column's type; jsonb, parsed once, where
    plain json would parse a row's text again for every field taken from it): the
    statement's text stays the same whatever the batch size, and encoding the batch is one
    call into the JSON encoder's C code, where the driver would adapt every value on its own
    in Python. PostgreSQL only, like the rest of the Redis budget store
    (settings.MATCH_BUDGET_STORE).
    """
    fields_ = [model._meta.get_field(name) for name in names]
    columns = ", ".join(field.column for field in fields_)
    values = ", ".join(_value_sql(i, field) for i, field in enumerate(fields_))
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
    if isinstance(field, models.CharField | models.TextField):
        # Text as it is: the column refuses what is too long (a cast to varchar(n) would cut it).
        return f"(r->>{i})"
    return f"(r->>{i})::{field.db_type(connection)}"


_EPOCH_DAY = dt.date(1970, 1, 1)


def _day(micros: int, days: dict[int, str]) -> str:
    """The UTC day (ISO) of a moment in microseconds since the epoch; `days` memoizes."""
    number = micros // 86_400_000_000
    found = days.get(number)
    if found is None:
        found = days[number] = (_EPOCH_DAY + dt.timedelta(days=number)).isoformat()
    return found


def _cannot_convert(records: list[Record]) -> set[str]:
    """The uids of the requests whose settlement cannot be a conversion: no placement still
    open for attribution, in PostgreSQL or in this batch, recommended the paid resource to
    that payer. They are written as already checked; billing's attribution sweep checks the
    others (the same test it applies first to what it reads)."""
    keys: dict[str, tuple[str, str, str]] = {}
    key_of: dict[str, str] = {}
    for record in records:
        request = record.request
        if request.url not in key_of:
            key_of[request.url] = conversion_key(request.url)
        keys[request.uid] = (request.payer, request.network, key_of[request.url])
    oldest = dt.datetime.fromtimestamp(min(r.request.at for r in records) / 1e6, tz=dt.UTC)
    touches = {
        (r.request.payer, r.request.network, r.terms.key) for r in records if r.terms is not None
    }
    touches |= selectors.open_touches(set(keys.values()) - touches, oldest)
    return {uid for uid, key in keys.items() if key not in touches}


def _insert_requests(records: list[Record]) -> dict[str, int]:
    """Insert the requests not yet written; their ids by uid."""
    if not records:
        return {}
    checked = _cannot_convert(records)
    rows = [
        RequestRow(
            uid=request.uid,
            facilitator=request.facilitator,
            received_at=request.at,
            resource_url=request.url,
            resource_description=request.description,
            network=request.network,
            payer=request.payer,
            settled_amount=int(request.amount),
            transport=request.transport,
            tx_hash=request.tx,
            matched=record.campaign is not None,
            attributed=request.uid in checked,
        )
        for record in records
        for request in (record.request,)
    ]
    # The uid comes back as the hex text the journal uses (no UUID object per row).
    returned = _insert(
        MatchRequest,
        RequestRow._fields,
        rows,
        "ON CONFLICT (uid) DO NOTHING RETURNING id, replace(uid::text, '-', '')",
    )
    return {uid: pk for pk, uid in returned}


def _over_cap(placed: list[Record], days: dict[int, str]) -> set[str]:
    """Count each payer's placements per campaign and UTC day in PostgreSQL; the placements
    that went past their campaign's cap."""
    groups: dict[tuple, list[Record]] = defaultdict(list)
    for item in placed:
        groups[(item.campaign, item.request.payer, _day(item.request.at, days))].append(item)
    if not groups:
        return set()
    table = PayerDailyCount._meta.db_table
    # Each group goes with the cap its first placement was matched under, and only the
    # groups now past it come back (none unless Redis lost its counts).
    rows = [
        (campaign_id, payer, day, len(items), items[0].cap)
        for (campaign_id, payer, day), items in groups.items()
    ]
    # The batch's fields cast as _insert casts them, from the model's own column types.
    fields_ = [PayerDailyCount._meta.get_field(name) for name in ("campaign", "payer", "day")]
    columns = ", ".join(
        f"{_value_sql(i, field)} AS {field.column}" for i, field in enumerate(fields_)
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
        over.update(item.request.uid for item in items[-excess:])
    return over


def _write_records(records: list[Record]) -> None:
    """Write decoded records, inside the caller's transaction or savepoint."""
    if not records:
        return
    inserted = _insert_requests(records)
    placed = [r for r in records if r.campaign is not None and r.request.uid in inserted]
    if not placed:
        return

    days: dict[int, str] = {}
    over = _over_cap(placed, days)
    by_grant: dict[tuple[int, str], list[Record]] = defaultdict(list)
    for item in placed:
        by_grant[(item.grant, item.campaign)].append(item)
    void: set[str] = set()
    hold_day: dict[int, str] = {}
    table = BudgetGrant._meta.db_table
    for (grant_id, campaign_id), items in by_grant.items():
        spent = sum(item.hold for item in items)
        with connection.cursor() as cursor:
            # The grant of this campaign only: a record naming another campaign's grant (of
            # another database) takes nothing from it.
            cursor.execute(
                f"UPDATE {table} SET used_millis = used_millis + %s "  # noqa: S608
                "WHERE id = %s AND campaign_id = %s "
                "AND used_millis + %s <= COALESCE(final_millis, granted_millis) "
                "RETURNING day",
                [spent, grant_id, campaign_id, spent],
            )
            row = cursor.fetchone()
        if row is None:
            logger.warning(
                "grant %s cannot cover %d placements: written without holds", grant_id, len(items)
            )
            void.update(item.request.uid for item in items)
            continue
        day = row[0]
        hold_day[grant_id] = day.isoformat()
        back = sum(item.hold for item in items if item.request.uid in over)
        if back:
            # Past the frequency cap: the hold goes straight back to the campaign.
            Campaign.objects.filter(pk=campaign_id).update(
                held_millis=F("held_millis") - back,
                day_held_millis=on_day(day, "day_held_millis", -back),
            )
            logger.warning("placements past their frequency cap written without holds")
    void |= over
    originals = _claim_originals(placed)
    rows = []
    for item in placed:
        request, terms = item.request, item.terms
        at = request.at
        expires_at = at + terms.lifetime * 1_000_000
        deadline = at + terms.window * 1_000_000
        voided = request.uid in void
        rows.append(
            PlacementRow(
                id=request.uid,
                campaign=item.campaign,
                facilitator=request.facilitator,
                match_request=inserted[request.uid],
                payer=request.payer,
                network=request.network,
                transport=request.transport,
                resource_url=request.url,
                conversion_resource=terms.resource,
                conversion_key=terms.key,
                bid_strategy=terms.strategy,
                billing_event=terms.event,
                price_millis=item.hold,
                hold_millis=0 if voided else item.hold,
                hold_day=hold_day.get(item.grant) or _day(at, days),
                state=(Placement.State.EXPIRED if voided else Placement.State.MATCHED).value,
                matched_at=at,
                expires_at=expires_at,
                attribution_deadline=deadline,
                release_at=release_at(terms.waits, expires_at, deadline, micros=True),
                original_tx_hash=originals.get(request.uid, ""),
                billed_millis=0,
            )
        )
    _insert(Placement, PlacementRow._fields, rows)


def _claim_originals(placed: list[Record]) -> dict[str, str]:
    """The settlement that carried each recommendation, claimed in its role once (the
    placements are inserted later in the same transaction: the foreign key is deferred).
    Returns the hash each placement won."""
    claims = [
        ClaimRow(
            network=item.request.network,
            tx_hash=item.request.tx,
            role=TxClaim.Role.ORIGINAL.value,
            placement=item.request.uid,
            claimed_at=item.request.at,
        )
        for item in placed
        if item.request.tx
    ]
    if not claims:
        return {}
    _insert(TxClaim, ClaimRow._fields, claims, "ON CONFLICT DO NOTHING")
    won = TxClaim.objects.filter(
        role=TxClaim.Role.ORIGINAL, placement_id__in=[claim.placement for claim in claims]
    ).values_list("placement_id", "tx_hash")
    return {placement_id.hex: tx_hash for placement_id, tx_hash in won}
