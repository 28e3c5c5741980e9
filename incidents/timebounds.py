"""The one check for every time a person types (override starts and ends,
maintenance windows, detection times): every entry point — dashboard forms,
the API, the admin — calls ``check_typed_time`` before a service stores it.

Why bounds at all: a time near year 1 or 9999 stores fine in UTC but
overflows when a page shows it in a zone east or west of UTC (a responder's
override at 9999-12-31 in Etc/GMT+12 turned every on-call page into a 500).
The window below is far wider than any real shift or incident needs, and
every time inside it can be shown in every time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from . import clock
from .errors import DomainError

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FURTHEST_AHEAD = timedelta(days=5 * 366)
CLOCK_SKEW = timedelta(minutes=5)


# What a page can show in every zone (UTC-12 … UTC+14) without overflowing.
SHOWABLE_FROM = datetime(1, 1, 2, tzinfo=UTC)
SHOWABLE_UNTIL = datetime(9999, 12, 30, tzinfo=UTC)


def unshowable_problem(value: datetime) -> str | None:
    """Why a time a machine sent (an alert's start) can never be shown, or
    None. Looser than ``typed_time_problem``: a sender's odd but real clock
    (1999, 2040) is kept, only a time no page could render is refused."""
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return "This time is out of range."
    if not SHOWABLE_FROM <= in_utc <= SHOWABLE_UNTIL:
        return "This time is out of range."
    return None


def typed_time_problem(
    value: datetime, *, allow_future: bool = True, now: datetime | None = None
) -> str | None:
    """Why ``value`` cannot be stored as a typed time, or None when it can."""
    if not isinstance(value, datetime):
        return "Enter a date and time."
    if timezone.is_naive(value):
        return "Give a time zone (an offset such as +02:00 or Z)."
    now = now or clock.now()
    latest = now + (FURTHEST_AHEAD if allow_future else CLOCK_SKEW)
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return "This time is out of range."
    if in_utc < EARLIEST:
        return f"This time is before {EARLIEST:%Y-%m-%d}; enter a recent time."
    if in_utc > latest:
        if allow_future:
            return f"This time is more than {FURTHEST_AHEAD.days // 366} years ahead."
        return "This time is in the future."
    return None


def check_typed_time(
    value: datetime, *, field: str, allow_future: bool = True, now: datetime | None = None
) -> datetime:
    """``value`` in UTC, or ``DomainError`` naming ``field``."""
    problem = typed_time_problem(value, allow_future=allow_future, now=now)
    if problem:
        raise DomainError(problem, field=field)
    return value.astimezone(UTC)
