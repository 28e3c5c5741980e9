"""The one shape every monitoring tool's payload is parsed into, and the small
value helpers that keep its fields exact (keys, titles, timestamps, URLs).

Pure Python: no database, no models. Parsers raise ``PayloadError`` for input
that can never be valid (the view answers 400, and senders do not retry 4xx).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

STATUSES = ("firing", "resolved", "acknowledged")
TITLE_MAX = 200
FINGERPRINT_MAX = 128  # Alert.fingerprint column
URL_MAX = 1000  # Alert.url column


@dataclass
class ParsedAlert:
    """One alert of one notification, whatever tool sent it.

    ``fingerprint`` says *which problem* (same key: same ongoing problem);
    ``occurrence_key`` says *which notification about it* (the same
    notification replayed gives the same key, so storing it twice is refused).
    """

    fingerprint: str
    status: str  # "firing" | "resolved" | "acknowledged"
    title: str
    description: str = ""
    source_severity: str = ""
    service: str = ""
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    url: str = ""
    occurrence_key: str = ""
    raw: dict = field(default_factory=dict)


class PayloadError(Exception):
    """Input that can never be valid -> HTTP 400. ``field`` names the culprit
    in the payload's own terms, e.g. ``alerts[2].labels``."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- keys ----------------------------------------------------------------------


def _canonical(value: Any) -> str:
    """Stable JSON text of ``value`` (sorted keys; datetimes as ISO 8601)."""

    def default(obj: Any) -> str:
        if isinstance(obj, datetime):
            return obj.isoformat()
        return str(obj)

    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default
    )


def derive_fingerprint(*parts: Any) -> str:
    """A 16-hex key from a tool's identifying fields, for tools that send no
    dedup key. Callers pass identity only (labels, title, source), never
    timestamps or measured values, so the key is stable across notifications."""
    return hashlib.sha256(_canonical(list(parts)).encode()).hexdigest()[:16]


def clean_fingerprint(value: Any) -> str:
    """A tool's own dedup key as text; keys longer than the column (PagerDuty
    allows 255 characters) become ``sha256:<hex>``, the same way every time."""
    if value is None or isinstance(value, bool | dict | list):
        return ""
    text = str(value).strip()
    if len(text) > FINGERPRINT_MAX:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def occurrence_key(fingerprint: str, status: str, *parts: Any) -> str:
    """sha256 hex of (fingerprint, status, what tells occurrences apart):
    start/end times, an event id, or a digest of the alert's content."""
    return hashlib.sha256(_canonical([fingerprint, status, *parts]).encode()).hexdigest()


def receipt_key(fingerprint: str, status: str) -> str:
    """An occurrence key unique to this receipt, for events that carry neither
    a time nor an id (PagerDuty events, generic alerts without ``timestamp``).

    Such a body cannot tell a sender's retry from a new occurrence: an
    identical "trigger" after a "resolve" is a new problem, and an identical
    "resolve" in the next cycle must resolve again. PagerDuty itself processes
    every event and groups by dedup key; so do we: a repeated trigger joins the
    open incident, and a repeated resolve or acknowledge changes nothing.
    """
    return hashlib.sha256(_canonical([fingerprint, status, uuid.uuid4().hex]).encode()).hexdigest()


def content_digest(value: Any) -> str:
    """Digest of a JSON value, for formats that carry neither a time nor an
    event id: an identical body is a replay, any change is a new occurrence."""
    return hashlib.sha256(_canonical(value).encode()).hexdigest()[:32]


# --- text ----------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def one_line(value: Any, limit: int = TITLE_MAX) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` with an ellipsis."""
    text = _SPACE.sub(" ", str(value or "")).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def make_title(*candidates: Any, fallback: str) -> str:
    """The first non-blank candidate as a one-line title (never empty)."""
    for candidate in candidates:
        title = one_line(candidate)
        if title:
            return title
    return one_line(fallback) or "Alert"


def text(value: Any) -> str:
    """Scalars as text ("" for None; JSON for nested values)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    return _canonical(value)


def format_number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def str_map(value: Any, where: str) -> dict[str, str]:
    """A tool's labels/annotations/tags object as str->str. ``None`` is empty;
    anything but an object raises ``PayloadError`` naming ``where``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object", field=where)
    return {str(k): text(v) for k, v in value.items()}


def to_float(value: Any) -> float | None:
    """A finite number from a JSON number or a plain numeric string ("0.75",
    " 12 "); ``None`` for anything else (booleans, units, NaN)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def clean_url(value: Any) -> str:
    """An http(s) link back to the tool, or "" (no javascript: links on our pages)."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if len(url) > URL_MAX or not re.match(r"^https?://\S+$", url, re.IGNORECASE):
        return ""
    return url


# --- time ----------------------------------------------------------------------

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:[.,](?P<frac>\d+))?)?"
    r"\s*(?P<tz>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_timestamp(value: Any, *, strict: bool = False) -> datetime | None:
    """A tz-aware UTC datetime from what tools send, or ``None``.

    Accepts RFC 3339 / ISO 8601 with ``Z``, ``+02:00``, ``+0000`` or ``+02``
    offsets and any number of fractional digits (nanoseconds are truncated to
    microseconds), a date alone (midnight UTC), RFC 2822 dates, and epoch
    numbers or numeric strings in seconds, milliseconds or microseconds
    (Datadog's ``$DATE`` is epoch ms as a string). Naive times are UTC.
    Go's zero time ``0001-01-01T00:00:00Z`` ("no end") and blanks give ``None``;
    so does anything unreadable, unless ``strict``, which raises ``ValueError``.
    """
    if value is None or value == "":
        return None
    try:
        parsed = _parse_time(value)
    except (ValueError, OverflowError, OSError):
        if strict:
            raise ValueError(f"not a date-time: {value!r}") from None
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year <= 1:  # Go zero time; converting it west of UTC would overflow
        return None
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    number = to_float(value)
    if number is not None:
        if number <= 0:
            return None
        if number > 1e14:  # microseconds
            number /= 1e6
        elif number > 1e11:  # milliseconds (Datadog $DATE, JavaScript)
            number /= 1e3
        return datetime.fromtimestamp(number, UTC)
    if not isinstance(value, str):
        raise ValueError(value)
    raw = value.strip()
    if not raw:
        return None
    match = _ISO.match(raw)
    if match is None:
        return parsedate_to_datetime(raw)  # RFC 2822; raises ValueError if not
    iso = match["date"]
    if match["time"]:
        clock = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
        iso += "T" + clock
        if match["frac"]:
            iso += "." + match["frac"][:6].ljust(6, "0")
    else:
        iso += "T00:00:00"
    tz = match["tz"]
    if tz is None or tz.upper() in ("Z", "UTC", "GMT"):
        iso += "+00:00"
    else:
        digits = tz[1:].replace(":", "")
        iso += f"{tz[0]}{digits[:2]}:{digits[2:4] or '00'}"
    return datetime.fromisoformat(iso)


__all__ = [
    "STATUSES",
    "TITLE_MAX",
    "ParsedAlert",
    "PayloadError",
    "clean_fingerprint",
    "clean_url",
    "content_digest",
    "derive_fingerprint",
    "make_title",
    "occurrence_key",
    "one_line",
    "parse_timestamp",
    "receipt_key",
    "str_map",
    "text",
    "to_float",
]
