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
from .ical_text import escape_text, lines_to_text, utc_stamp
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


def shift_uid(schedule: Schedule, shift: Shift) -> str:
    seed = f"{schedule.pk}|{utc_stamp(shift.starts_at)}|{shift.user.pk}"
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
    stamp = utc_stamp(now)
    for shift in items:
        how = "Override" if shift.source == OVERRIDE else "Rotation"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{shift_uid(schedule, shift)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(shift.starts_at)}",
            f"DTEND:{utc_stamp(shift.ends_at)}",
            f"SUMMARY:{escape_text(f'On call: {schedule.name} ({_person(shift.user)})')}",
            f"DESCRIPTION:{escape_text(f'{how} shift of {shift.user.get_username()}.')}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return lines_to_text(lines)


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
