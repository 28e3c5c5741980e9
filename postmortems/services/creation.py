"""How a post-mortem comes to be, and its narrative from the incident's own
timeline.

Resolving a P0 or P1 creates its post-mortem in the resolution's
transaction (``on_incident_resolved``, hung on ``incidents.lifecycle``);
P2, P3 and drills get one on request (``postmortem_request``). The 48-hour
promise is two deadline rows: a reminder to the owner 24 hours before, and
the breach at the due time (postmortems/engine.py fires them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from incidents import clock
from incidents.engine import deadlines
from incidents.errors import DomainError
from incidents.models import DeadlineKind, EventKind, Incident, Status, TimelineEvent
from incidents.people import display_name

from .. import access
from ..models import Postmortem, PostmortemStatus, TimelineEntry

AUTOMATIC_SEVERITIES = ("P0", "P1")
DUE_AFTER = timedelta(hours=48)
REMIND_BEFORE = timedelta(hours=24)
# Deadline kind of the reminder; the breach is DeadlineKind.POSTMORTEM.
REMINDER = "pm_reminder"

# The events a post-mortem's timeline is made of (FireHydrant, Jeli: the
# narrative comes from the record); the first alert and any marked event too.
NARRATIVE = {
    EventKind.DECLARED,
    EventKind.ACKNOWLEDGED,
    EventKind.STATUS_CHANGED,
    EventKind.SEVERITY_CHANGED,
    EventKind.ROLE_ASSIGNED,
    EventKind.ROLE_RELIEVED,
    EventKind.UPDATE_POSTED,
    EventKind.MITIGATED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
    EventKind.ESCALATED,
    EventKind.SLA_BREACHED,
    EventKind.PUBLISHED,
}


def subject(postmortem: Postmortem) -> str:
    return f"postmortem:{postmortem.pk}"


def schedule_due(postmortem: Postmortem, now: datetime) -> None:
    """(Re)write the two promises of an unpublished post-mortem."""
    deadlines.cancel_for(subject(postmortem), now)
    if postmortem.status == PostmortemStatus.PUBLISHED:
        return
    common = {"incident": postmortem.incident, "subject": subject(postmortem), "now": now}
    remind_at = postmortem.due_at - REMIND_BEFORE
    if remind_at > now:
        deadlines.schedule_for(kind=REMINDER, due_at=remind_at, **common)
    row = deadlines.schedule_for(
        kind=DeadlineKind.POSTMORTEM,
        due_at=postmortem.due_at,
        starts_at=postmortem.incident.resolved_at or now,
        **common,
    )
    row.target_seconds = int(DUE_AFTER.total_seconds())
    row.save(update_fields=["target_seconds"])


def _event_text(event: TimelineEvent) -> str:
    """One line of the narrative: who did what, in the timeline's words."""
    who = display_name(event.actor) if event.actor_id else "TreeBeard"
    label = event.get_kind_display()
    before, after = event.before or {}, event.after or {}
    change = ""
    for field in ("status", "severity"):
        if field in after and before.get(field) != after.get(field):
            change = f" ({before.get(field) or '—'} → {after[field]})"
    message = " ".join((event.message or "").split())
    if len(message) > 500:
        message = message[:499] + "…"
    text = f"{label}{change} by {who}"
    return f"{text}: {message}" if message else text


def import_timeline(postmortem: Postmortem, now: datetime) -> int:
    """Replace the imported entries with the incident's narrative events (the
    first alert, and every marked event, included); hand-written entries
    stay. Returns how many were imported."""
    postmortem.timeline.filter(event__isnull=False).delete()
    # Entries whose event is gone (never: the timeline is append-only) stay
    # as hand-written ones.
    events = list(
        TimelineEvent.objects.filter(incident=postmortem.incident)
        .select_related("actor", "mark")
        .order_by("at", "id")
    )
    first_alert = next((e for e in events if e.kind == EventKind.ALERT_RECEIVED), None)
    entries = []
    for event in events:
        mark = getattr(event, "mark", None)
        if event.kind in NARRATIVE or event is first_alert or mark is not None:
            entries.append(
                TimelineEntry(
                    postmortem=postmortem,
                    event=event,
                    at=event.at,
                    text=_event_text(event),
                    moment=mark.kind if mark is not None else "",
                )
            )
    TimelineEntry.objects.bulk_create(entries)
    postmortem.timeline_imported_at = now
    postmortem.save(update_fields=["timeline_imported_at"])
    return len(entries)


def _create(incident: Incident, now: datetime) -> Postmortem:
    resolved = incident.resolved_at or now
    postmortem = Postmortem.objects.create(
        incident=incident,
        owner=incident.commander or incident.declared_by,
        due_at=resolved + DUE_AFTER,
        summary=incident.summary,
        root_cause=incident.root_cause,
        resolution=incident.resolution,
        impact=incident.impact,
        services_affected=[service.name for service in incident.services.all()],
        created_at=now,
        updated_at=now,
    )
    import_timeline(postmortem, now)
    schedule_due(postmortem, now)
    return postmortem


def wanted_automatically(incident: Incident) -> bool:
    if incident.is_drill and not settings.POSTMORTEM_FOR_DRILLS:
        return False
    return incident.severity in AUTOMATIC_SEVERITIES and not incident.false_positive


def on_incident_resolved(*, incident: Incident, actor, now: datetime) -> None:
    """``incidents.lifecycle`` hook: a P0/P1 gets its post-mortem with the
    resolution; one resolved again keeps its post-mortem, and its promises
    come back if it is not published yet."""
    existing = Postmortem.objects.filter(incident=incident).first()
    if existing is not None:
        if existing.status != PostmortemStatus.PUBLISHED:
            schedule_due(existing, now)
        return
    if wanted_automatically(incident):
        _create(incident, now)


@transaction.atomic
def postmortem_request(*, actor, incident: Incident) -> Postmortem:
    """Ask for a post-mortem of any resolved incident (P2, P3, a drill, a
    false positive). Asking twice is an error naming the incident."""
    access.require_write(actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if Postmortem.objects.filter(incident=incident).exists():
        raise DomainError(
            f"{incident.ref} has a post-mortem already.", field="incident", conflict=True
        )
    if incident.status != Status.RESOLVED:
        raise DomainError(
            f"{incident.ref} is not resolved yet; a post-mortem follows the resolution.",
            field="incident",
            conflict=True,
        )
    return _create(incident, clock.now())
