"""The URL index finds exactly the campaigns whose patterns match, without scanning all."""

import random

import pytest

from campaigns.matching import index, patterns
from campaigns.tests.test_engine import card


def mk(i: int, *globs: str):
    return card(id=f"c{i}", patterns=tuple(patterns.compile_glob(g) for g in globs))


def ids(idx, url):
    return sorted(c.id for c in idx.candidates(url))


def test_host_prefix_contains_and_match_all():
    idx = index.CampaignIndex(
        [
            mk(1, "https://api.example.com/*"),
            mk(2, "*jupiter*"),
            mk(3, "https://*.example.com/v2/*"),
            mk(4),  # no patterns: every URL
            mk(5, "https://api.example.com/v1/quote"),
            mk(6, "https://API.Example.com:8443/*"),
        ]
    )
    assert ids(idx, "https://api.example.com/v1/quote") == ["c1", "c4", "c5"]
    assert ids(idx, "https://quote.JUPITER.ag/v6") == ["c2", "c4"]
    assert ids(idx, "https://eu.example.com/v2/x") == ["c3", "c4"]
    assert ids(idx, "https://api.example.com:8443/x") == ["c4", "c6"]
    assert ids(idx, "https://api.example.com.evil.net/x") == ["c4"]
    assert ids(idx, "mcp://tools/jupiter-swap") == ["c2", "c4"]


def test_patterns_with_no_long_literal_are_still_checked():
    idx = index.CampaignIndex([mk(1, "*a*"), mk(2, "*ab*c*")])
    assert ids(idx, "https://x.org/a") == ["c1"]
    assert ids(idx, "https://x.org/abxc") == ["c1", "c2"]


@pytest.mark.parametrize("seed", range(5))
def test_index_agrees_with_a_full_scan(seed):
    rng = random.Random(seed)
    words = ["api", "quote", "swap", "jupiter", "weather", "v1", "v2", "data", "x"]
    globs = []
    for _ in range(300):
        kind = rng.random()
        if kind < 0.4:
            globs.append(f"https://{rng.choice(words)}.example.com/{rng.choice(words)}/*")
        elif kind < 0.8:
            globs.append(f"*{rng.choice(words)}{rng.choice(words)}*")
        else:
            globs.append(f"https://*.{rng.choice(words)}.io/*")
    cards = [mk(i, g) for i, g in enumerate(globs)] + [mk(999)]
    idx = index.CampaignIndex(cards)
    for _ in range(200):
        url = (
            f"https://{rng.choice(words)}.{rng.choice(['example.com', 'q.io', 'data.io'])}/"
            f"{rng.choice(words)}{rng.choice(words)}/{rng.choice(words)}"
        )
        # Some in other cases, some with letters that Unicode case folding (not the
        # patterns') equates with ASCII ones: the long s and the Kelvin sign.
        url = "".join(ch.upper() if rng.random() < 0.2 else ch for ch in url)
        if rng.random() < 0.2:
            url = url.replace("s", "\u017f", 1).replace("k", "\u212a", 1)
        expected = sorted(
            c.id for c in cards if not c.patterns or any(p.match(url) for p in c.patterns)
        )
        assert ids(idx, url) == expected
        assert ids(idx, url) == expected  # and again, from the memo


def test_prefix_globs_ignore_case_like_their_pattern():
    idx = index.CampaignIndex([mk(1, "https://API.example.com/V1/*"), mk(2, "mcp://Tools/*")])
    assert ids(idx, "https://api.EXAMPLE.com/v1/quote") == ["c1"]
    assert ids(idx, "https://api.example.com/v2/quote") == []
    assert ids(idx, "https://api.example.com/v1") == []
    assert ids(idx, "MCP://tools/swap") == ["c2"]
    # Only ASCII letters are folded: the long s is not an "s", an "É" not an "é".
    assert ids(idx, "http\u017f://api.example.com/v1/x") == []
    idx = index.CampaignIndex([mk(1, "https://café.example/*"), mk(2, "*CAFÉ*")])
    assert ids(idx, "https://CAFé.example/menu") == ["c1"]
    assert ids(idx, "https://cafÉ.example/menu") == ["c2"]
    assert ids(idx, "https://x.example/cafÉ") == ["c2"]
    assert ids(idx, "https://x.example/café") == []


def test_the_memo_answers_repeated_urls_and_stays_bounded(monkeypatch):
    monkeypatch.setattr(index, "MEMO_SIZE", 3)
    idx = index.CampaignIndex([mk(1, "https://api.example.com/*"), mk(2, "*swap*")])
    first = idx.candidates("https://api.example.com/swap")
    assert sorted(c.id for c in first) == ["c1", "c2"]
    assert idx.candidates("https://api.example.com/swap") is first
    for n in range(10):
        assert [c.id for c in idx.candidates(f"https://api.example.com/{n}")] == ["c1"]
        assert len(idx._memo) <= 3
