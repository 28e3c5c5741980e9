"""The one shape every monitoring tool's payload is parsed into, and the small
value helpers that keep its fields exact (keys, titles, timestamps, URLs).

Pure Python: no database, no models. Parsers raise ``PayloadError`` for input
that can never be valid (the view answers 400, and senders do not retry 4xx).
Decoding is ``incidents.safejson`` and the range of a time is
``incidents.timebounds``: the same rules as every other entry point.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from ..safejson import JsonInputError, find_problem, loads, text_problem
from ..timebounds import unshowable_problem

STATUSES = ("firing", "resolved", "acknowledged")
TITLE_MAX = 200  # Alert.title and Incident.title columns
FINGERPRINT_MAX = 128  # Alert.fingerprint column
OCCURRENCE_KEY_MAX = 64  # Alert.occurrence_key column
SOURCE_SEVERITY_MAX = 40  # Alert.source_severity column
SERVICE_MAX = 100  # Alert.service and Service.name columns
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


@dataclass
class Refusal:
    """One alert of a batch that was refused, and why: the rest of the batch is
    kept (a sender re-sends a whole batch on a 5xx, so one bad alert must
    never block the others)."""

    # In the order the API answers with them (README, "refused").
    index: int
    fingerprint: str | None
    field: str | None
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Batch:
    """What one notification holds: the alerts that can be stored, and the
    ones refused."""

    alerts: list[ParsedAlert] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def strict(self) -> list[ParsedAlert]:
        """The alerts, or ``PayloadError`` for the first refused one."""
        if self.refused:
            first = self.refused[0]
            raise PayloadError(first.message, field=first.field)
        return self.alerts


# --- decoding -------------------------------------------------------------------


def load_json(payload: Any) -> Any:
    """A body decoded strictly (``safejson``), whatever the caller passed.

    Bytes are decoded; a string holding JSON (double-encoded bodies) too, and
    any other string is returned as it is, for the caller's type check.
    Already-decoded data goes through the same decoder by a round trip, so a
    caller passing Python objects gets the same refusals (NaN, huge integers,
    deep nesting) as a sender. NUL characters and lone surrogates are left to
    the caller (``find_problem``), which refuses one alert and keeps the rest.
    """
    if isinstance(payload, bytes | bytearray | memoryview):
        raw = bytes(payload)
    elif isinstance(payload, str):
        if not payload.lstrip().startswith(("{", "[")):
            return payload
        raw = payload
    else:
        try:
            raw = json.dumps(payload)
        except (TypeError, ValueError, RecursionError):
            raise PayloadError("the body is not JSON data") from None
    try:
        return loads(raw, check_text=False)
    except JsonInputError as exc:
        raise PayloadError(exc.message, field=exc.field) from None


def check_text(value: Any, *, path: str) -> None:
    """``PayloadError`` naming the place of the first string in ``value``
    (keys included) that cannot be stored: a NUL character, a lone surrogate."""
    found = find_problem(value, path=path)
    if found:
        where, reason = found
        raise PayloadError(f"{where or 'the body'} {reason}", field=where or None)


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


def fit(value: str, limit: int) -> str:
    """``value`` stripped and cut to ``limit`` characters (labels, not prose:
    no ellipsis)."""
    return value.strip()[:limit].strip()


def fit_service(value: str) -> str:
    """A service name that fits ``Service.name`` once lower-cased, as services
    are stored: lower-casing can lengthen a name ("İ" becomes two characters)."""
    name = fit(value, SERVICE_MAX)
    while len(name.lower()) > SERVICE_MAX:
        name = name[:-1]
    return name.strip()


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
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # not a number; an int past float's range
        return None
    return number if math.isfinite(number) else None


def clean_url(value: Any) -> str:
    """An http(s) link back to the tool, or "" (no javascript: links on our pages)."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if len(url) > URL_MAX or not _URL.match(url) or text_problem(url):
        return ""
    return url


# No spaces or control characters (NUL and the like cannot be stored).
_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


# --- time ----------------------------------------------------------------------

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:[.,](?P<frac>\d+))?)?"
    r"\s*(?P<tz>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)


class _OutOfRange(ValueError):
    """A definite instant that no datetime can hold (epoch 1e20, year 0)."""


def parse_timestamp(value: Any, *, strict: bool = False, field: str = "time") -> datetime | None:
    """A tz-aware UTC datetime from what tools send, or ``None``.

    Accepts RFC 3339 / ISO 8601 with ``Z``, ``+02:00``, ``+0000`` or ``+02``
    offsets and any number of fractional digits (nanoseconds are truncated to
    microseconds), a date alone (midnight UTC), RFC 2822 dates, and epoch
    numbers or numeric strings in seconds, milliseconds or microseconds
    (Datadog's ``$DATE`` is epoch ms as a string). Naive times are UTC.
    Go's zero time ``0001-01-01T00:00:00Z`` ("no end") and blanks give ``None``;
    so does anything unreadable, unless ``strict``, which raises ``ValueError``.

    A readable time that the pages could not show in every time zone (past
    what a datetime holds, such as epoch 1e20, year 0 or 9999-12-31 west of
    UTC) raises ``PayloadError`` naming ``field``, strict or not: storing it
    would turn every page that shows the alert into an error. An odd but
    showable clock (1999, 2040) is kept: the alert is filed as detected now
    (``alerts._detected_at``) rather than lost.
    """
    if value is None or value == "":
        return None
    try:
        parsed = _parse_time(value)
    except _OutOfRange:
        raise _out_of_range(value, field, "This time is out of range.") from None
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
    problem = unshowable_problem(parsed)
    if problem:
        raise _out_of_range(value, field, problem)
    return parsed.astimezone(UTC)


def _out_of_range(value: Any, field: str, problem: str) -> PayloadError:
    shown = str(value)[:40]
    return PayloadError(f"{field} {shown!r} is out of range: {problem}", field=field)


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
        try:
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            raise _OutOfRange(value) from None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        raise _OutOfRange(value)  # an integer past float's range
    if not isinstance(value, str):
        raise ValueError(value)
    raw = value.strip()
    if not raw:
        return None
    match = _ISO.match(raw)
    if match is None:
        return parsedate_to_datetime(raw)  # RFC 2822; raises ValueError if not
    if match["date"].startswith("0000"):  # year 0: no datetime holds it
        raise _OutOfRange(value)
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


# --- a parsed alert against the columns ---------------------------------------------


def normalise(alert: ParsedAlert) -> ParsedAlert:
    """Fit the label-like fields to their columns, the same way every time:
    a fingerprint longer than the column is hashed, the source severity cut,
    the service cut so that its lower-case form fits ``Service.name``."""
    if len(alert.fingerprint) > FINGERPRINT_MAX:
        alert.fingerprint = clean_fingerprint(alert.fingerprint)
    alert.source_severity = fit(alert.source_severity, SOURCE_SEVERITY_MAX)
    alert.service = fit_service(alert.service)
    return alert


def alert_problem(alert: ParsedAlert) -> tuple[str, str] | None:
    """The first field of ``alert`` that the Alert and Incident columns cannot
    store, as (field, reason), or None when every field fits."""
    if alert.status not in STATUSES:
        return "status", f"must be one of {', '.join(STATUSES)}"
    for name, limit in (
        ("fingerprint", FINGERPRINT_MAX),
        ("occurrence_key", OCCURRENCE_KEY_MAX),
        ("title", TITLE_MAX),
        ("source_severity", SOURCE_SEVERITY_MAX),
        ("service", SERVICE_MAX),
        ("url", URL_MAX),
        ("description", None),
    ):
        value = getattr(alert, name)
        if not isinstance(value, str):
            return name, "must be text"
        if limit and len(value.lower() if name == "service" else value) > limit:
            return name, f"is longer than {limit} characters"
    for name in ("labels", "annotations"):
        mapping = getattr(alert, name)
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            return name, "must map text to text"
    if not isinstance(alert.values, dict) or not all(
        isinstance(k, str) and isinstance(v, float) and math.isfinite(v)
        for k, v in alert.values.items()
    ):
        return "values", "must map text to finite numbers"
    for name in ("starts_at", "ends_at"):
        moment = getattr(alert, name)
        if moment is not None and (not isinstance(moment, datetime) or unshowable_problem(moment)):
            return name, "is not a time the pages can show"
    if not isinstance(alert.raw, dict):
        return "raw", "must be an object"
    texts = (alert.fingerprint, alert.title, alert.description, alert.source_severity)
    found = find_problem(
        [*texts, alert.service, alert.url, alert.labels, alert.annotations, alert.values, alert.raw]
    )
    if found:
        return "text", found[1]
    return None


def check_alert(alert: ParsedAlert, *, where: str) -> ParsedAlert:
    """``alert`` normalised, or ``PayloadError`` for a field that cannot be
    stored: the last check before an alert leaves a parser, so
    ``alert_record`` never meets a value the database refuses."""
    problem = alert_problem(normalise(alert))
    if problem:
        name, reason = problem
        place = f"{where}.{name}" if where else name
        raise PayloadError(f"{place} {reason}", field=place)
    return alert


__all__ = [
    "STATUSES",
    "TITLE_MAX",
    "Batch",
    "ParsedAlert",
    "PayloadError",
    "Refusal",
    "alert_problem",
    "check_alert",
    "check_text",
    "clean_fingerprint",
    "clean_url",
    "content_digest",
    "derive_fingerprint",
    "fit",
    "fit_service",
    "load_json",
    "make_title",
    "normalise",
    "occurrence_key",
    "one_line",
    "parse_timestamp",
    "receipt_key",
    "str_map",
    "text",
    "to_float",
]
