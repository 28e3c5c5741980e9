"""On-call shifts as an iCalendar feed (RFC 5545), written by hand.

Calendar apps poll a subscribed URL; each shift is one VEVENT whose UID is
stable for the same schedule, start and person, so an app updates an event
in place when its end moves (an override cut in) instead of duplicating it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.http import HttpResponse

from . import clock
from .models import Schedule
from .oncall import OVERRIDE, Shift, shifts
from .people import display_name as _person

FEED_PAST = timedelta(days=14)
FEED_FUTURE = timedelta(days=90)
# Shifts crossing the feed's edges are computed whole (up to this much beyond
# them, from a midnight): a shift clipped at a moving edge would get a new
# start, hence a new UID, on every poll.
EDGE_PAD = timedelta(days=31)
PRODID = "-//TreeBeard//TreeBeard IR on-call//EN"
UID_DOMAIN = "treebeard-ir"
CONTENT_TYPE = "text/calendar; charset=utf-8"
# RFC 5545 3.1: lines are folded at 75 octets (not characters).
LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a
    UTF-8 character; continuation lines start with one space (which counts)."""
    chunks: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > LINE_OCTETS:
            chunks.append(current)
            current, size = " ", 1
        current += char
        size += width
    chunks.append(current)
    return "\r\n".join(chunks)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def shift_uid(schedule: Schedule, shift: Shift) -> str:
    seed = f"{schedule.pk}|{_utc(shift.starts_at)}|{shift.user.pk}"
    return f"{hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()}@{UID_DOMAIN}"


def render_calendar(
    schedule: Schedule, items: Iterable[Shift], *, now: datetime, name: str | None = None
) -> str:
    """The whole VCALENDAR text with CRLF line endings."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name or f'On call: {schedule.name}')}",
        # Subscribed calendars refresh hourly (Apple and Outlook honour one of these).
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    stamp = _utc(now)
    for shift in items:
        how = "Override" if shift.source == OVERRIDE else "Rotation"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{shift_uid(schedule, shift)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(shift.starts_at)}",
            f"DTEND:{_utc(shift.ends_at)}",
            f"SUMMARY:{escape_text(f'On call: {schedule.name} ({_person(shift.user)})')}",
            f"DESCRIPTION:{escape_text(f'{how} shift of {shift.user.get_username()}.')}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def calendar_response(schedule: Schedule, *, user=None) -> HttpResponse:
    """The feed of ``schedule`` (only ``user``'s shifts when given), from
    14 days back to 90 days ahead."""
    now = clock.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first, last = now - FEED_PAST, now + FEED_FUTURE
    computed = shifts(
        schedule, midnight - FEED_PAST - EDGE_PAD, midnight + FEED_FUTURE + EDGE_PAD, user=user
    )
    items = [s for s in computed if s.ends_at > first and s.starts_at < last]
    name = f"On call: {schedule.name}" + (f" ({_person(user)})" if user is not None else "")
    body = render_calendar(schedule, items, now=now, name=name)
    response = HttpResponse(body.encode("utf-8"), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{schedule.slug}.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
