"""URL globs of target_url_patterns: `*` matches any run of characters, the rest is literal."""

import functools
import re
from urllib.parse import urlsplit

MAX_PATTERN_LENGTH = 512


class PatternError(ValueError):
    """A pattern that is not a usable URL glob."""


def validate(pattern: object) -> str:
    if not isinstance(pattern, str) or not pattern.strip():
        raise PatternError("Each pattern must be a non-empty string.")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"Each pattern must be at most {MAX_PATTERN_LENGTH} characters.")
    if any(ch.isspace() for ch in pattern):
        raise PatternError("Patterns cannot contain spaces.")
    if pattern.replace("*", "") == "":
        # "*" alone would match everything: leave target_url_patterns empty for that.
        raise PatternError(
            'A pattern needs some text besides "*"; leave the list empty to match every URL.'
        )
    return pattern


@functools.lru_cache(maxsize=65536)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Globs match the whole URL, ignoring the case of ASCII letters: `*jupiter*` is
    "contains", `https://api.example.com/*` is "starts with". Other letters match only
    themselves (the long s is not an "s"), as fold() has it."""
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(f"^{body}$", re.IGNORECASE | re.ASCII | re.DOTALL)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Text with its ASCII letters lower-cased and every other character kept: two texts
    are equal under compile_glob's matching exactly when their folds are equal."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def resource_key(url: str) -> str:
    """A URL reduced to what names the resource: scheme, host and path, without the
    query, fragment or trailing slash, host lower-cased. Two URLs with the same key are
    the same paid resource."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip().lower()
    if not parts.scheme or not parts.netloc:
        return url.strip().lower()
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
