"""An index of live campaigns by URL, so a match looks at a handful of campaigns, not all.

Patterns with a literal scheme and host (`https://api.example.com/*`) are filed under that
host. Patterns whose host has a wildcard (`*jupiter*`, `https://*.example.com/*`) are filed
under the rarest three-letter piece of their longest literal run: a URL can only match if
it contains that piece. Campaigns without patterns match every URL. Every candidate is
still checked against its full pattern: the index only narrows the search.

The answer depends on the URL alone, and a snapshot's index never changes, so it is kept
per URL (up to MEMO_SIZE URLs, then started afresh): a paid API's URL comes back with
every agent that pays for it.
"""

import copy
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.matching.engine import CampaignCard
from campaigns.matching.patterns import fold

_HOSTED = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/*?#]+)(?P<rest>[/?#].*|)$"
)


# URLs whose candidates an index keeps. Each URL is at most 2,048 characters
# (campaigns.api.fields.MAX_URL_LENGTH), so a full memo holds at most 8 MiB of keys.
MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Entry:
    card_id: str
    pattern: re.Pattern[str]
    # For a glob that is a literal and one trailing `*`, the literal folded: "the folded
    # URL starts with it" is then the pattern's own test, and cheaper than the regex. None
    # for every other glob.
    prefix: str | None = None

    def matches(self, url: str, folded: str) -> bool:
        if self.prefix is not None:
            return folded.startswith(self.prefix)
        return self.pattern.match(url) is not None


def _entry(card_id: str, pattern: re.Pattern[str], glob: str) -> _Entry:
    prefix = fold(glob[:-1]) if glob.find("*") == len(glob) - 1 else None
    return _Entry(card_id, pattern, prefix)


def _netloc(url: str) -> str:
    """The host[:port] of a URL, folded (patterns.fold); '' if it has none."""
    start = url.find("://")
    if start < 0:
        return ""
    start += 3
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if found >= 0:
            end = min(end, found)
    return fold(url[start:end])


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


class CampaignIndex:
    """Candidate campaigns for a URL; build once per snapshot, then read-only. What it
    files are campaign ids: `with_cards` puts new cards for the same campaigns on it."""

    def __init__(self, cards: Iterable[CampaignCard]):
        self.cards: dict[str, CampaignCard] = {}
        self._by_host: dict[str, list[_Entry]] = defaultdict(list)
        self._by_trigram: dict[str, list[_Entry]] = defaultdict(list)
        self._scan: list[_Entry] = []
        self._everything: list[str] = []
        wildcard: list[tuple[_Entry, str]] = []
        for card in cards:
            self.cards[card.id] = card
            if not card.patterns:
                self._everything.append(card.id)
                continue
            for pattern in card.patterns:
                glob = _unescape(pattern.pattern[1:-1])  # without compile_glob's anchors
                entry = _entry(card.id, pattern, glob)
                hosted = _HOSTED.match(glob)
                if hosted and "*" not in hosted.group("scheme"):
                    self._by_host[fold(hosted.group("host"))].append(entry)
                else:
                    literal = max((part for part in glob.split("*") if part), key=len, default="")
                    wildcard.append((entry, fold(literal)))
        counts = Counter(t for _, literal in wildcard for t in _trigrams(literal))
        for entry, literal in wildcard:
            pieces = _trigrams(literal)
            if not pieces:
                self._scan.append(entry)
                continue
            rarest = min(sorted(pieces), key=counts.__getitem__)
            self._by_trigram[rarest].append(entry)
        self._by_host = dict(self._by_host)
        self._by_trigram = dict(self._by_trigram)
        self._memo: dict[str, tuple[CampaignCard, ...]] = {}

    def __len__(self) -> int:
        return len(self.cards)

    def with_cards(self, cards: dict[str, CampaignCard]) -> "CampaignIndex":
        """This index over other cards for the same campaigns (their patterns unchanged)."""
        if cards.keys() != self.cards.keys():
            raise ValueError("with_cards takes cards for the same campaigns")
        other = copy.copy(self)
        other.cards, other._memo = cards, {}
        return other

    def candidates(self, url: str) -> tuple[CampaignCard, ...]:
        """Campaigns whose URL patterns match this URL (or who target every URL)."""
        found = self._memo.get(url)
        if found is None:
            found = self._find(url)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[url] = found
        return found

    def _find(self, url: str) -> tuple[CampaignCard, ...]:
        found = dict.fromkeys(self._everything)  # campaign ids, in the order found
        folded = fold(url)
        for entry in self._by_host.get(_netloc(url), ()):
            if entry.card_id not in found and entry.matches(url, folded):
                found[entry.card_id] = None
        if self._by_trigram:
            # The URL's three-letter pieces that some pattern is filed under.
            trigrams = map("".join, zip(folded, folded[1:], folded[2:], strict=False))
            for piece in self._by_trigram.keys() & trigrams:
                for entry in self._by_trigram[piece]:
                    if entry.card_id not in found and entry.matches(url, folded):
                        found[entry.card_id] = None
        for entry in self._scan:
            if entry.card_id not in found and entry.matches(url, folded):
                found[entry.card_id] = None
        cards = self.cards
        return tuple(cards[card_id] for card_id in found)


def _unescape(regex_body: str) -> str:
    """Back from compile_glob's regex body to the glob: `.*` is `*`, `\\x` is `x`."""
    out, i = [], 0
    while i < len(regex_body):
        if regex_body.startswith(".*", i):
            out.append("*")
            i += 2
        elif regex_body[i] == "\\" and i + 1 < len(regex_body):
            out.append(regex_body[i + 1])
            i += 2
        else:
            out.append(regex_body[i])
            i += 1
    return "".join(out)
