"""Reading JSON request bodies: one reader that refuses what no column can store.

Every JSON body of the API goes through `loads`: DRF's views through `JSONParser` (the
only parser in REST_FRAMEWORK), the /v1/match fast path through its body reader. Beyond
the JSON grammar it refuses, anywhere in the body, keys included:
- a lone surrogate (`"\\ud800"`): valid JSON escapes, but not Unicode; PostgreSQL and UTF-8
  cannot store it, and an answer that echoed it could not be encoded;
- NUL (U+0000): PostgreSQL's text columns cannot hold it;
- nesting deeper than MAX_DEPTH arrays and objects: no body of this API nests more than
  three deep, and Python's decoder would otherwise recurse until it fails;
- NaN and Infinity, which are not JSON.
A refusal is a 400 `malformed_body` naming where in the body it is (details), before any
field is validated or anything is written.
"""

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from adnet.core.errors import AdnetError

MAX_DEPTH = 32


class BodyRefused(AdnetError):
    status = 400
    code = "malformed_body"
    default_message = "The body is not valid JSON."


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def loads(body: bytes, encoding: str = "utf-8") -> Any:
    """The JSON value of a request body, or BodyRefused saying why not."""
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise BodyRefused(f"The body is not {encoding} text.") from exc
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except RecursionError as exc:
        raise BodyRefused(_too_deep()) from exc
    except ValueError as exc:
        raise BodyRefused(f"JSON parse error - {exc}") from exc
    check(value)
    return value


def check(value: Any) -> None:
    """BodyRefused if a decoded JSON value holds what cannot be stored (see above)."""
    problem = _problem(value, 1)
    if problem is not None:
        where, message = problem
        raise BodyRefused(message, details={where or "body": [message]})


def _too_deep() -> str:
    return f"JSON nested deeper than {MAX_DEPTH} arrays and objects."


def _bad_text(text: str) -> str | None:
    """What in this string cannot be stored, if anything."""
    if "\x00" in text:
        return "NUL (\\u0000)"
    if not text.isascii():  # O(1) in CPython: the common ASCII string skips the encode
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "a lone surrogate (\\ud800-\\udfff)"
    return None


def _problem(value: Any, depth: int) -> tuple[str, str] | None:
    """(where, what) for the first thing in value that cannot be stored, else None."""
    kind = type(value)
    if kind is str:
        bad = _bad_text(value)
        return None if bad is None else ("", f"The string holds {bad}, which cannot be stored.")
    if kind is dict:
        if depth > MAX_DEPTH:
            return "", _too_deep()
        for key, item in value.items():
            bad = _bad_text(key)
            if bad is not None:
                return "", f"A key holds {bad}, which cannot be stored."
            if type(item) in _CONTAINERS_AND_TEXT:
                problem = _problem(item, depth + 1)
                if problem is not None:
                    return _join(key, problem)
        return None
    if kind is list:
        if depth > MAX_DEPTH:
            return "", _too_deep()
        for index, item in enumerate(value):
            if type(item) in _CONTAINERS_AND_TEXT:
                problem = _problem(item, depth + 1)
                if problem is not None:
                    return _join(f"[{index}]", problem)
        return None
    return None


_CONTAINERS_AND_TEXT = frozenset((str, dict, list))


def _join(step: str, problem: tuple[str, str]) -> tuple[str, str]:
    where, message = problem
    if not where:
        return step, message
    return (step + where if where.startswith("[") else f"{step}.{where}"), message


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the refusals above (REST_FRAMEWORK's only parser)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            body = stream.read()
        except OSError as exc:  # the client went away mid-body
            raise ParseError("The body could not be read.") from exc
        return loads(body, encoding)
