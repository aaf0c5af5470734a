"""Code names (statuses, reasons, strategies) as words for people: "payer_is_advertiser"
becomes "Payer is advertiser". Stored codes stay codes; only what is shown changes."""

# Parts of codes that are abbreviations, written as people write them.
_PARTS = {
    "tx": "transaction",
    "http": "HTTP",
    "mcp": "MCP",
    "a2a": "A2A",
    "cpa": "CPA",
    "cpc": "CPC",
    "cpm": "CPM",
    "asap": "ASAP",
    "non": "non-",
}


def in_words(code: str | None) -> str:
    """A code as a short sentence-case phrase; empty stays empty."""
    if not code:
        return ""
    parts = [_PARTS.get(part, part) for part in code.split("_")]
    text = " ".join(parts).replace("non- ", "non-")
    return text[0].upper() + text[1:]
