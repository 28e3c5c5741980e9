"""Strict JSON for everything that arrives from outside (API bodies, ingestion
webhooks, PagerDuty events): one decoder, so every entry refuses the same
hostile input with a 400 that names where it is, instead of a 500 later.

What the standard decoder lets through and PostgreSQL or Python then chokes on:
- ``NaN`` / ``Infinity`` (not JSON; ``jsonb`` refuses them);
- integers past Python's int-string conversion limit (``ValueError`` outside
  ``JSONDecodeError``);
- nesting deep enough for a ``RecursionError``;
- NUL characters and lone surrogates in strings or keys (``\\u0000`` and
  ``\\ud800`` decode fine, but PostgreSQL's ``text`` and UTF-8 refuse them).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
MAX_INT_DIGITS = 100  # far past any id or count a tool sends


class JsonInputError(ValueError):
    """The body can never be valid. ``field`` is a JSON path (``alerts[3].labels``)
    or None for the body as a whole."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _no_constant(name: str):
    raise JsonInputError(f"{name} is not a JSON number.")


def _float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise JsonInputError(f"The number {text[:20]} is too large for a float.")
    return number


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonInputError(f"An integer has more than {MAX_INT_DIGITS} digits.")
    return int(text)


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def find_problem(value: Any, *, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The first (path, reason) in a decoded value that cannot be stored, or None."""
    if depth > MAX_DEPTH:
        return path, f"is nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        reason = text_problem(value)
        return (path, reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            reason = text_problem(key)
            if reason:
                return _path(path, "<key>"), f"has a key that {reason}"
            found = find_problem(item, path=_path(path, key), depth=depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_problem(item, path=_path(path, index), depth=depth + 1)
            if found:
                return found
    return None


def _depth_exceeded(raw: str) -> bool:
    """Nesting depth of the raw text, counted outside strings, so a
    megabyte of '[' is refused without recursing at all."""
    depth = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def loads(raw: bytes | str, *, check_text: bool = True) -> Any:
    """Decode a body strictly. Raises ``JsonInputError`` with a message (and a
    ``field`` path for a bad string), never anything else.

    ``check_text=False`` leaves NUL/surrogate checks to the caller, for batches
    that refuse one bad item and keep the rest (see ``find_problem``).
    """
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"Body is not UTF-8: {exc.reason} at byte {exc.start}.") from None
    else:
        text = raw
    if text.startswith("\ufeff"):
        text = text[1:]
    if _depth_exceeded(text):
        raise JsonInputError(f"Body is nested deeper than {MAX_DEPTH} levels.")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_int=_int, parse_float=_float)
    except JsonInputError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"Body is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise JsonInputError(f"Body is not valid JSON: {exc}") from None
    if check_text:
        found = find_problem(value)
        if found:
            path, reason = found
            raise JsonInputError(f"{path or 'body'} {reason}.", field=path or None)
    return value
