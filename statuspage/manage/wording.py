"""What the communications lead's forms start from: the guide's wording.

The drafts are built from what is public already (the public incident's
name, its components, when it started) and never from the internal
incident's title, summary, impact, notes or people: a draft posted without
a second look must leak nothing. What only a person can say is left as a
bracketed placeholder of the guide's template, and a form refuses a body
that still holds one (``unfilled``).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings

from incidents import clock

from ..models import Impact

# The guide's severities as a first guess of the public impact; the
# communications lead chooses (the impact is public, the severity is not).
IMPACT_FOR_SEVERITY = {"P0": Impact.CRITICAL, "P1": Impact.MAJOR, "P2": Impact.MINOR}

# The guide's "External Communication (Users)" placeholders left for a person.
IMPACT_PLACEHOLDER = "[Impact description]"
RESOLUTION_PLACEHOLDER = "[What was done to resolve]"
PLACEHOLDERS = (IMPACT_PLACEHOLDER, RESOLUTION_PLACEHOLDER, "[brief issue description]")

FIRST_MESSAGE = (
    "We are investigating reports of problems affecting some of our services. "
    "We will post an update here as soon as we know more."
)


def company() -> str:
    return getattr(settings, "STATUS_PAGE_COMPANY", "") or "TreeBeard"


def page_zone() -> zoneinfo.ZoneInfo:
    name = getattr(settings, "STATUS_PAGE_TIME_ZONE", "") or settings.TIME_ZONE
    return zoneinfo.ZoneInfo(name)


def impact_for(incident) -> str:
    return IMPACT_FOR_SEVERITY.get(incident.severity, Impact.NONE)


def _span(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 1)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def _moment(at: datetime, zone: zoneinfo.ZoneInfo, *, day: bool) -> str:
    local = at.astimezone(zone)
    text = local.strftime("%-d %b %H:%M") if day else local.strftime("%H:%M")
    return f"{text} {local.tzname()}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def resolved_message(public, *, ended_at: datetime | None = None) -> str:
    """The guide's "External Communication (Users)" template for a public
    incident that is over, filled from what the public knows already."""
    zone = page_zone()
    start = public.started_at
    end = ended_at or clock.now()
    same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
    affected = [c.name for c in public.components.all()]
    impact_lines = [f"- {IMPACT_PLACEHOLDER}"]
    if affected:
        impact_lines.append(f"- Affected: {', '.join(affected)}")
    return "\n".join(
        [
            f"{public.name} - {end.astimezone(zone).strftime('%-d %B %Y')}",
            "",
            f"We experienced {_lower_first(public.name)} from "
            f"{_moment(start, zone, day=True)} to {_moment(end, zone, day=not same_day)} "
            f"({_span(end - start)}).",
            "",
            "Impact:",
            *impact_lines,
            "",
            "Resolution:",
            RESOLUTION_PLACEHOLDER,
            "",
            "Status:",
            "All services are now operating normally. "
            "We're monitoring closely to ensure stability.",
            "",
            "We apologize for any inconvenience. "
            "A full post-mortem will be published within 48 hours.",
            "",
            f"- The {company()} Team",
        ]
    )


def unfilled(text: str) -> str | None:
    """The first of the template's placeholders still in ``text``."""
    return next((p for p in PLACEHOLDERS if p.lower() in (text or "").lower()), None)
