"""An index of live campaigns by URL, so a match looks at a handful of campaigns, not all.

Patterns with a literal scheme and host (`https://api.example.com/*`) are filed under that
host. Patterns whose host has a wildcard (`*jupiter*`, `https://*.example.com/*`) are filed
under the rarest three-letter piece of their longest literal run: a URL can only match if
it contains that piece. Campaigns without patterns match every URL. Every candidate is
still checked against its full pattern: the index only narrows the search.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.matching.engine import CampaignCard

_HOSTED = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/*?#]+)(?P<rest>[/?#].*|)$"
)


@dataclass(frozen=True, slots=True)
class _Entry:
    card: CampaignCard
    pattern: re.Pattern[str]


def _netloc(url: str) -> str:
    """The host[:port] of a URL, lower-cased; '' if it has none."""
    start = url.find("://")
    if start < 0:
        return ""
    start += 3
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if found >= 0:
            end = min(end, found)
    return url[start:end].lower()


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


class CampaignIndex:
    """Candidate campaigns for a URL; build once per snapshot, then read-only."""

    def __init__(self, cards: Iterable[CampaignCard]):
        self.cards: dict[str, CampaignCard] = {}
        self._by_host: dict[str, list[_Entry]] = defaultdict(list)
        self._by_trigram: dict[str, list[_Entry]] = defaultdict(list)
        self._scan: list[_Entry] = []
        self._everything: list[CampaignCard] = []
        wildcard: list[tuple[_Entry, str]] = []
        for card in cards:
            self.cards[card.id] = card
            if not card.patterns:
                self._everything.append(card)
                continue
            for pattern in card.patterns:
                entry = _Entry(card, pattern)
                glob = pattern.pattern[1:-1]  # strip the anchors compile_glob adds
                hosted = _HOSTED.match(_unescape(glob))
                if hosted and "*" not in hosted.group("scheme"):
                    self._by_host[hosted.group("host").lower()].append(entry)
                else:
                    literal = max(_literals(glob), key=len, default="")
                    wildcard.append((entry, literal.lower()))
        counts = Counter(t for _, literal in wildcard for t in _trigrams(literal))
        for entry, literal in wildcard:
            pieces = _trigrams(literal)
            if not pieces:
                self._scan.append(entry)
                continue
            rarest = min(sorted(pieces), key=counts.__getitem__)
            self._by_trigram[rarest].append(entry)

    def __len__(self) -> int:
        return len(self.cards)

    def candidates(self, url: str) -> list[CampaignCard]:
        """Campaigns whose URL patterns match this URL (or who target every URL)."""
        found: dict[str, CampaignCard] = {card.id: card for card in self._everything}
        for entry in self._by_host.get(_netloc(url), ()):
            if entry.card.id not in found and entry.pattern.match(url):
                found[entry.card.id] = entry.card
        lowered = url.lower()
        for piece in _trigrams(lowered):
            for entry in self._by_trigram.get(piece, ()):
                if entry.card.id not in found and entry.pattern.match(url):
                    found[entry.card.id] = entry.card
        for entry in self._scan:
            if entry.card.id not in found and entry.pattern.match(url):
                found[entry.card.id] = entry.card
        return list(found.values())


_ESCAPED = re.compile(r"\\(.)")


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


def _literals(regex_body: str) -> list[str]:
    return [part for part in _unescape(regex_body).split("*") if part]
