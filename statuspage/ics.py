"""Scheduled maintenance as an iCalendar feed (``/maintenance.ics``, RFC 5545),
written with the ``icalendar`` package.

Each maintenance is one VEVENT whose UID is its code, so a subscribed
calendar moves the event in place when the window is rescheduled. DTSTAMP
is the maintenance's ``updated_at``, never "now": the bytes change only when
the maintenance does, which the pre-rendered copies rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import icalendar

from .models import Maintenance, MaintenanceStatus

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//TreeBeard//TreeBeard status page//EN"
# Completed maintenance stays in the feed this long, so calendars keep it.
KEEP_COMPLETED = timedelta(days=30)


def feed_maintenances(*, now: datetime):
    """Every maintenance not completed, and those completed recently."""
    recent = now - KEEP_COMPLETED
    return (
        Maintenance.objects.prefetch_related("components", "updates")
        .exclude(status=MaintenanceStatus.COMPLETED, scheduled_until__lt=recent)
        .order_by("scheduled_for", "id")
    )


def _description(maintenance: Maintenance) -> str:
    lines = []
    updates = sorted(maintenance.updates.all(), key=lambda u: (u.display_at, u.pk))
    if updates:
        lines.append(updates[-1].body)
    names = [c.name for c in maintenance.components.all()]
    if names:
        lines.append("Components: " + ", ".join(names))
    lines.append(f"Status: {maintenance.get_status_display()}")
    return "\n\n".join(lines)


def calendar(
    maintenances: Iterable[Maintenance],
    *,
    name: str,
    link: Callable[[Maintenance], str],
    host: str,
) -> bytes:
    """The VCALENDAR as bytes; ``link(maintenance)`` is its page's absolute URL."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{name} maintenance")
    # Subscribed calendars refresh hourly (Apple and Outlook honour one of these).
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for maintenance in maintenances:
        event = icalendar.Event()
        event.add("uid", f"maintenance-{maintenance.code}@{host}")
        event.add("dtstamp", maintenance.updated_at.astimezone(UTC))
        event.add("last-modified", maintenance.updated_at.astimezone(UTC))
        event.add("created", maintenance.created_at.astimezone(UTC))
        event.add("dtstart", maintenance.scheduled_for.astimezone(UTC))
        event.add("dtend", maintenance.scheduled_until.astimezone(UTC))
        event.add("summary", f"{name} maintenance: {maintenance.name}")
        event.add("description", _description(maintenance))
        event.add("url", link(maintenance))
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
