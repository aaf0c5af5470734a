"""The Redis side of matching's budget step: one script per match, nothing read-then-written.

PostgreSQL lends each live campaign a slice of its budget (a BudgetGrant, counted in the
campaign's held_millis before anything is spent from it). Redis keeps, per campaign, the
grant being spent and what is left of it (`a:<campaign>`). The match script, atomically:

- skips candidates whose payer reached the campaign's frequency cap today;
- spends one hold from the first candidate whose grant is today's and has room;
- appends the observation (and the placement, if any) to the journal stream, which the
  worker writes to PostgreSQL (campaigns.journal);
- returns the catalog version, so a process knows whether its snapshot is current.

A grant can only be spent once, and only inside Redis; so however Redis fails, placements
never exceed what PostgreSQL granted. A flushed Redis has no `epoch` any more: a new one is
set, and grants of the old one are closed at what had reached PostgreSQL (campaigns.grants).

Keys, under settings.BUDGET_REDIS_PREFIX: epoch, catalog, journal (stream), refill (set of
campaigns to top up), a:<campaign> (hash: grant, day, avail, low), r:<grant> (what a
retired grant had left), rf:<day>:<campaign> (one refill at a time, or none for a while
after one failed), lw:<grant> (the grant went below its low mark and its campaign is
listed for a top-up: once per grant, so the next grant is listed again),
f:<day>:<campaign>:<payer> (placements to that payer today), history (the campaigns'
delivery history, as the worker last read it).
"""

import json
import threading
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings

# Seconds a payer's daily count lives: the rest of any UTC day, and a margin.
FREQUENCY_TTL_SECONDS = 90_000
# The delivery history the worker publishes once a minute is used for this long after it
# was read (a missed publication or two), and kept in Redis a little longer.
HISTORY_SHARED_MAX_AGE_SECONDS = 150
HISTORY_KEEP_SECONDS = 300
# How long (milliseconds of the callers' clock) other requests leave a campaign's empty
# grant to the one refilling it; a refill that found no budget sets a longer pause.
REFILL_CLAIM_MS = 2000

# The match script's answers.
NO_EPOCH = 0  # the store has no epoch (new, or flushed): set one and ask again
PLACED = 1  # answered and recorded: the winner's index (-1: none), the campaign it took
# below its grant's low mark, if any
WANTS_GRANTS = 2  # nothing placed yet; the campaigns listed need a grant from this caller
# (an id marked SPENT_GRANT had today's grant and spent it; one without, none today yet)
SPENT_GRANT = "+"
STALE_CATALOG = 3  # the caller's snapshot is older than the published catalog version
RATE_LIMITED = 4  # the API key is over its rate: nothing recorded

# The script's reply, decoded by MatchReply.decode: reply version, status (above), the
# winner's index (-1: none), the published catalog version, the epoch, the campaign taken
# below its grant's low mark ('' none), then for WANTS_GRANTS the campaigns wanted.
REPLY_VERSION = 1

# ARGV: prefix, today, payer, frequency TTL, request record, final ('1': record even if
# grants are wanted), refill claim ms, expected catalog version ('' = any), now ms,
# rate key ('' = not counted here), rate limit, rate window seconds, n; then n candidates,
# each "campaign id TAB hold millis TAB frequency cap TAB placement detail".
MATCH = """
local P = ARGV[1]
local rate_key = ARGV[10]
if rate_key ~= '' then
  local used = redis.call('INCR', rate_key)
  if used == 1 then redis.call('EXPIRE', rate_key, ARGV[12]) end
  if used > tonumber(ARGV[11]) then return {1, 4, -1, '', '', ''} end
end
local epoch = redis.call('GET', P .. 'epoch')
local version = redis.call('GET', P .. 'catalog') or ''
if not epoch then return {1, 0, -1, version, '', ''} end
local expected = ARGV[8]
if expected ~= '' and version ~= '' and version ~= expected then
  return {1, 3, -1, version, epoch, ''}
end
local today, payer, ttl, record = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local final, claim, now = ARGV[6] == '1', tonumber(ARGV[7]), tonumber(ARGV[9])
local n = tonumber(ARGV[13])
local empty, wanted = {}, {}
for i = 0, n - 1 do
  local cid, hold, cap, detail = string.match(ARGV[14 + i], '^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$')
  hold, cap = tonumber(hold), tonumber(cap)
  local fkey = P .. 'f:' .. today .. ':' .. cid .. ':' .. payer
  if tonumber(redis.call('GET', fkey) or '0') < cap then
    local akey = P .. 'a:' .. cid
    local a = redis.call('HMGET', akey, 'day', 'avail', 'grant', 'low')
    if a[1] == today and tonumber(a[2]) >= hold then
      local left = redis.call('HINCRBY', akey, 'avail', -hold)
      if redis.call('INCR', fkey) == 1 then redis.call('EXPIRE', fkey, ttl) end
      -- The request that takes the grant below its low mark is told so (it may top it up
      -- once it has answered); the top-up task is asked too, in case it does not.
      local low = ''
      if left < tonumber(a[4]) and redis.call('SET', P .. 'lw:' .. a[3], cid, 'NX', 'EX', 10) then
        redis.call('SADD', P .. 'refill', cid)
        low = cid
      end
      -- Better campaigns passed over for want of a grant: the top-up task grants them.
      for _, other in ipairs(empty) do redis.call('SADD', P .. 'refill', other) end
      redis.call('XADD', P .. 'journal', '*', 'r', record, 'c', cid, 'g', a[3], 'h', hold,
        'k', cap, 'd', detail)
      return {1, 1, i, version, epoch, low}
    elseif #empty < 2 then
      local claimed = tonumber(redis.call('GET', P .. 'rf:' .. today .. ':' .. cid) or '0')
      if claimed <= now then
        table.insert(empty, cid)
        -- '+': today's grant, spent (not the day's first grant, which is 'cid' alone)
        table.insert(wanted, (a[1] == today and '+' or '') .. cid)
      end
    end
  end
end
if #empty > 0 and not final then
  -- This caller grants them (its claim keeps other requests from doing so) and asks again.
  for _, cid in ipairs(empty) do
    redis.call('SET', P .. 'rf:' .. today .. ':' .. cid, now + claim, 'EX', 3600)
  end
  return {1, 2, -1, version, epoch, '', unpack(wanted)}
end
for _, other in ipairs(empty) do redis.call('SADD', P .. 'refill', other) end
redis.call('XADD', P .. 'journal', '*', 'r', record)
return {1, 1, -1, version, epoch, ''}
"""


@dataclass(frozen=True, slots=True)
class MatchReply:
    """The match script's answer, by name."""

    status: int  # NO_EPOCH, PLACED, WANTS_GRANTS, STALE_CATALOG or RATE_LIMITED
    winner: int  # the index of the offer placed, -1 if none
    catalog_version: str  # the published catalog version ('' if none is)
    epoch: str
    low: str  # the campaign whose grant this match took below its low mark ('' if none)
    wanted: tuple[str, ...]  # WANTS_GRANTS: the campaigns to grant (SPENT_GRANT marks)

    @classmethod
    def decode(cls, reply: list) -> "MatchReply":
        version, status, winner, catalog, epoch, low, *wanted = reply
        if version != REPLY_VERSION:
            raise redis.exceptions.ResponseError(f"match script reply version {version!r}")
        return cls(
            status=status,
            winner=winner,
            catalog_version=_text(catalog),
            epoch=_text(epoch),
            low=_text(low),
            wanted=tuple(_text(item) for item in wanted),
        )


CREDIT = """
local P = ARGV[1]
if redis.call('GET', P .. 'epoch') ~= ARGV[7] then return 0 end
local akey = P .. 'a:' .. ARGV[2]
if redis.call('EXISTS', akey) == 1 then return -1 end
redis.call('HSET', akey, 'grant', ARGV[3], 'day', ARGV[4], 'avail', ARGV[5], 'low', ARGV[6])
redis.call('DEL', P .. 'rf:' .. ARGV[4] .. ':' .. ARGV[2])
return 1
"""

# Replace a live grant with a new one in one step (a top-up): no moment without a grant.
# ARGV: prefix, campaign, old grant, new grant, day, amount, low, epoch.
SWAP = """
local P = ARGV[1]
if redis.call('GET', P .. 'epoch') ~= ARGV[8] then return {0, ''} end
local akey = P .. 'a:' .. ARGV[2]
local a = redis.call('HMGET', akey, 'grant', 'avail')
if a[1] ~= ARGV[3] then return {-1, ''} end
redis.call('HSET', akey, 'grant', ARGV[4], 'day', ARGV[5], 'avail', ARGV[6], 'low', ARGV[7])
redis.call('SET', P .. 'r:' .. ARGV[3], a[2], 'EX', 604800)
redis.call('DEL', P .. 'rf:' .. ARGV[5] .. ':' .. ARGV[2])
return {1, a[2]}
"""

RETIRE = """
local P = ARGV[1]
local epoch = redis.call('GET', P .. 'epoch') or ''
local akey = P .. 'a:' .. ARGV[2]
local g = redis.call('HGET', akey, 'grant')
if g and (ARGV[3] == '' or ARGV[3] == g) then
  local avail = redis.call('HGET', akey, 'avail')
  redis.call('DEL', akey)
  redis.call('SET', P .. 'r:' .. g, avail, 'EX', 604800)
  return {g, avail, epoch}
end
if ARGV[3] ~= '' then
  local r = redis.call('GET', P .. 'r:' .. ARGV[3])
  if r then return {ARGV[3], r, epoch} end
end
return {'', '', epoch}
"""

CLAIM = """
if tonumber(redis.call('GET', KEYS[1]) or '0') <= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1] + ARGV[2], 'EX', 3600)
  return 1
end
return 0
"""

SET_MAX = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
"""

_local = threading.local()
_lock = threading.Lock()
_client: "Store | None" = None


class Store:
    """A connection pool and the registered scripts (EVALSHA, loaded again after a flush)."""

    def __init__(self, url: str, prefix: str):
        self.url = url
        self.prefix = prefix
        self.redis = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=0
        )
        self.match = self.redis.register_script(MATCH)
        self.credit_script = self.redis.register_script(CREDIT)
        self.retire_script = self.redis.register_script(RETIRE)
        self.swap_script = self.redis.register_script(SWAP)
        self.set_max = self.redis.register_script(SET_MAX)
        self.claim = self.redis.register_script(CLAIM)
        self.scripts: dict = {}

    def key(self, name: str) -> str:
        return self.prefix + name

    def run_match(self, args: list) -> MatchReply:
        """The MATCH script, called on a pooled connection directly: the same EVALSHA
        without redis-py's per-command layers (a tenth of a match's time in the web
        process). A script Redis does not know (restarted, SCRIPT FLUSH) goes through the
        registered script, which loads it; a connection error propagates, unretried, and
        matching falls back to PostgreSQL."""
        pool = self.redis.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_command("EVALSHA", self.match.sha, 0, *args)
            return MatchReply.decode(conn.read_response())
        except redis.exceptions.NoScriptError:
            pass
        except BaseException:
            conn.disconnect()  # a reply may still be on its way: never reuse this socket
            raise
        finally:
            pool.release(conn)
        return MatchReply.decode(self.match(args=args, client=self.redis))


def enabled() -> bool:
    return settings.MATCH_BUDGET_STORE == "redis" and bool(settings.REDIS_URL)


def store() -> Store:
    """This process's store (prefix from settings, so tests can keep their keys apart)."""
    global _client
    client = _client
    if (
        client is None
        or client.prefix != settings.BUDGET_REDIS_PREFIX
        or client.url != settings.REDIS_URL
    ):
        with _lock:
            client = _client
            if (
                client is None
                or client.prefix != settings.BUDGET_REDIS_PREFIX
                or client.url != settings.REDIS_URL
            ):
                client = _client = Store(settings.REDIS_URL, settings.BUDGET_REDIS_PREFIX)
    return client


# --- Calls -----------------------------------------------------------------------------------


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else ("" if value is None else str(value))


def ensure_epoch() -> str:
    """The store's epoch, setting a new one if it has none (first start, or a flush)."""
    s = store()
    s.redis.set(s.key("epoch"), uuid.uuid4().hex, nx=True)
    return _text(s.redis.get(s.key("epoch")))


def current_epoch() -> str:
    s = store()
    return _text(s.redis.get(s.key("epoch")))


def credit(*, campaign_id: str, grant_id: int, day: str, amount: int, low: int, epoch: str) -> int:
    """Make a new grant the campaign's live one. 1 if it is; 0 if the store's epoch is not
    `epoch` any more; -1 if the campaign already has a live grant."""
    s = store()
    return int(
        s.credit_script(
            args=[s.prefix, campaign_id, grant_id, day, amount, low, epoch], client=s.redis
        )
    )


def live_grant(campaign_id: str) -> tuple[int, str, int] | None:
    """The campaign's live grant in Redis: (grant id, day, what is left), or None."""
    s = store()
    grant, day, avail = s.redis.hmget(s.key(f"a:{campaign_id}"), "grant", "day", "avail")
    if grant is None:
        return None
    return int(grant), _text(day), int(avail)


def swap(
    *, campaign_id: str, old: int, grant_id: int, day: str, amount: int, low: int, epoch: str
) -> tuple[int, int | None]:
    """Make a new grant live in place of `old`, which is kept under r:<old> with what it
    had left: (1, what it had left); (0, None) if the store's epoch is not `epoch` any more;
    (-1, None) if `old` is not the live grant any more."""
    s = store()
    status, left = s.swap_script(
        args=[s.prefix, campaign_id, old, grant_id, day, amount, low, epoch], client=s.redis
    )
    left = _text(left)
    return int(status), int(left) if left else None


def retire(*, campaign_id: str, grant_id: int | None = None) -> tuple[int | None, int | None, str]:
    """Take a campaign's live grant (or the given one) out of use: (grant id, what it had
    left, the store's epoch). The id and amount are None when the store does not know it."""
    s = store()
    grant, avail, epoch = s.retire_script(
        args=[s.prefix, campaign_id, "" if grant_id is None else grant_id], client=s.redis
    )
    grant, avail = _text(grant), _text(avail)
    return (int(grant) if grant else None, int(avail) if avail else None, _text(epoch))


def epoch_ms(at) -> int:
    return int(at.timestamp() * 1000)


def claim_refill(campaign_id: str, day: str, now_ms: int) -> bool:
    """The right to refill this campaign now (the match script takes it the same way)."""
    s = store()
    key = s.key(f"rf:{day}:{campaign_id}")
    return bool(s.claim(keys=[key], args=[now_ms, REFILL_CLAIM_MS * 5], client=s.redis))


def release_refill_claim(campaign_id: str, day: str, *, pause_until_ms: int = 0) -> None:
    """Let the next request ask for a grant again: at once, or from `pause_until_ms`."""
    s = store()
    key = s.key(f"rf:{day}:{campaign_id}")
    if pause_until_ms:
        s.redis.set(key, pause_until_ms, ex=3600)
    else:
        s.redis.delete(key)


def below_low_mark(campaign_id: str, day: str) -> bool:
    """Whether the campaign's grant still wants a top-up: none of this day, or below its
    low mark (one topped up since it was listed is not)."""
    s = store()
    grant_day, avail, low = s.redis.hmget(s.key(f"a:{campaign_id}"), "day", "avail", "low")
    if grant_day is None or _text(grant_day) != day:
        return True
    return int(avail) < int(low)


def publish_history(history: dict[str, tuple[int, int, int, int]], now) -> None:
    """The campaigns' delivery history (campaigns.catalog.delivery_history), for every
    server process, stamped with the time it was read."""
    s = store()
    value = json.dumps({"at": epoch_ms(now), "campaigns": history}, separators=(",", ":"))
    s.redis.set(s.key("history"), value, ex=HISTORY_KEEP_SECONDS)


def read_history(now) -> dict[str, list[int]] | None:
    """The published delivery history, or None if there is none younger than
    HISTORY_SHARED_MAX_AGE_SECONDS or Redis cannot say (the caller reads it itself)."""
    s = store()
    try:
        value = s.redis.get(s.key("history"))
    except redis.RedisError:
        return None
    if value is None:
        return None
    published = json.loads(value)
    if epoch_ms(now) - published["at"] > HISTORY_SHARED_MAX_AGE_SECONDS * 1000:
        return None
    return published["campaigns"]


def pop_refills(limit: int = 500) -> list[str]:
    s = store()
    return [_text(v) for v in (s.redis.spop(s.key("refill"), limit) or [])]


def publish_catalog_version(version: int, *, force: bool = False) -> None:
    """Publish the catalog version: only ever upwards, or as given with `force` (by a
    process that has just read it from PostgreSQL, which is the truth)."""
    s = store()
    if force:
        s.redis.set(s.key("catalog"), version)
    else:
        s.set_max(keys=[s.key("catalog")], args=[version], client=s.redis)
