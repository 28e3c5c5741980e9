"""Reads for pages and the API, each in a constant number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import (
    OPEN_STATUSES,
    Alert,
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    RoleAssignment,
    Service,
    Severity,
    SeverityPolicy,
    Status,
    TimelineEvent,
)


def _with_people(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """What a row or page of incidents shows: services, role holders and clocks."""
    return qs.with_people().prefetch_related(
        "services",
        Prefetch("deadlines", queryset=Deadline.objects.running(), to_attr="pending_deadlines"),
    )


SEVERITY_ORDER = [s.value for s in Severity]


@dataclass(frozen=True)
class IncidentFilters:
    """What the board's filter bar and the API's query parameters narrow a
    list of incidents by, already parsed; ``None`` leaves a filter off."""

    statuses: Sequence[str] | None = None
    severities: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    # True: not resolved; False: resolved.
    is_open: bool | None = None
    is_drill: bool | None = None
    service: str | None = None
    # Text in the reference, title, summary or the title of an alert.
    q: str | None = None
    detected_after: datetime | None = None
    detected_before: datetime | None = None

    @property
    def narrows(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def apply(self, qs: QuerySet[Incident]) -> QuerySet[Incident]:
        if self.statuses is not None:
            qs = qs.filter(status__in=self.statuses)
        if self.severities is not None:
            qs = qs.filter(severity__in=self.severities)
        if self.sources is not None:
            qs = qs.filter(source__in=self.sources)
        if self.is_open is not None:
            qs = (
                qs.filter(status__in=OPEN_STATUSES)
                if self.is_open
                else qs.filter(status=Status.RESOLVED)
            )
        if self.is_drill is not None:
            qs = qs.filter(is_drill=self.is_drill)
        if self.service:
            # Service names are stored lower-case (services.checks.service_rows).
            qs = qs.filter(services__name=self.service.lower())
        if self.detected_after is not None:
            qs = qs.filter(detected_at__gte=self.detected_after)
        if self.detected_before is not None:
            qs = qs.filter(detected_at__lt=self.detected_before)
        if self.q:
            # Per incident, on its own alerts (index ``alert_incident``): the
            # board polls with the search kept, during storms too, and the
            # alert table keeps every alert ever received.
            its_alert = Alert.objects.filter(incident=OuterRef("pk"), title__icontains=self.q)
            qs = qs.filter(
                Q(ref__icontains=self.q)
                | Q(title__icontains=self.q)
                | Q(summary__icontains=self.q)
                | Exists(its_alert)
            )
        return qs


NO_FILTERS = IncidentFilters()


def open_incidents(filters: IncidentFilters = NO_FILTERS) -> list[Incident]:
    """Open incidents sorted P0 → P3, oldest first (the board), optionally
    narrowed by the board's filters."""
    qs = filters.apply(Incident.objects.filter(status__in=OPEN_STATUSES))
    qs = _with_people(qs).prefetch_related(
        Prefetch(
            "timeline",
            # The board row's "L1: nobody on call — paged L2" (incidents.engine.paging).
            queryset=TimelineEvent.objects.filter(
                kind__in=[EventKind.ESCALATED, EventKind.NOTIFICATION], detail__has_key="path"
            ).order_by("at", "id"),
            to_attr="paging_events",
        )
    )
    return sorted(qs, key=lambda i: (SEVERITY_ORDER.index(i.severity), i.detected_at))


def incidents_resolved_since(
    since: datetime, filters: IncidentFilters = NO_FILTERS
) -> list[Incident]:
    """Incidents resolved since ``since``, newest first; a status filter (of
    open statuses, on the board) leaves them alone."""
    qs = replace(filters, statuses=None).apply(
        Incident.objects.filter(status=Status.RESOLVED, resolved_at__gte=since)
    )
    return list(_with_people(qs).order_by("-resolved_at"))


def open_counts() -> dict[str, int]:
    """Open incidents per severity (every severity present, zeros included),
    plus ``unacknowledged`` and ``total``; one query."""
    return Incident.objects.filter(status__in=OPEN_STATUSES).aggregate(
        total=Count("id"),
        unacknowledged=Count("id", filter=Q(acknowledged_at__isnull=True)),
        **{s.value: Count("id", filter=Q(severity=s.value)) for s in Severity},
    )


def service_names() -> list[str]:
    return list(Service.objects.order_by("name").values_list("name", flat=True))


def last_event_id(incident: Incident | None = None) -> int:
    """Every change writes a timeline event, so the newest event id tells a
    polling page whether anything changed (of one incident, or of any)."""
    events = TimelineEvent.objects.all() if incident is None else incident.timeline.all()
    return events.aggregate(last=Max("id"))["last"] or 0


def incident_deadlines(incident: Incident) -> list[Deadline]:
    """All deadlines of an incident, pending or closed, by due time."""
    return list(incident.deadlines.order_by("due_at", "id"))


def incident_list(filters: IncidentFilters = NO_FILTERS) -> QuerySet[Incident]:
    """Incidents newest first (the API's list), narrowed by ``filters``."""
    qs = filters.apply(_with_people(Incident.objects.all()))
    return qs.distinct().order_by("-detected_at", "-id")


def incident_by_ref(ref: str) -> Incident:
    return get_object_or_404(_with_people(Incident.objects.all()), ref=ref)


def incident_timeline(incident: Incident) -> QuerySet[TimelineEvent]:
    return incident.timeline.select_related("actor", "mark").order_by("-at", "-id")


def role_history(incident: Incident) -> QuerySet[RoleAssignment]:
    return incident.role_assignments.select_related("user", "assigned_by").order_by(
        "-assigned_at", "-id"
    )


def severity_policies() -> dict[str, SeverityPolicy]:
    return {p.severity: p for p in SeverityPolicy.objects.all()}


def next_clock(incident: Incident) -> Deadline | None:
    """The deadline that matters next: acknowledge first, then the earliest."""
    pending = getattr(incident, "pending_deadlines", None)
    if pending is None:
        pending = list(incident.deadlines.running())
    if not pending:
        return None
    acks = [d for d in pending if d.kind == DeadlineKind.ACKNOWLEDGE]
    return acks[0] if acks else min(pending, key=lambda d: d.due_at)


def incident_escalation(incident: Incident) -> dict[str, list]:
    """The escalation steps copied onto an incident, per path (technical
    first), by level."""
    steps = incident.escalation_steps.select_related("schedule", "user", "group").order_by(
        "path", "level"
    )
    paths: dict[str, list] = {"technical": [], "business": []}
    for step in steps:
        paths.setdefault(step.path, []).append(step)
    return {path: rows for path, rows in paths.items() if rows}


def incident_notifications(incident: Incident, limit: int = 50) -> list:
    """Deliveries of an incident, newest first, with where they went."""
    rows = incident.notifications.select_related("channel", "recipient")
    return list(rows.order_by("-created_at", "-id")[:limit])


def incident_breaches(incident: Incident) -> list:
    return list(incident.sla_breaches.order_by("due_at", "id"))


# Two incidents are the same problem again when they share a service and an
# alert fingerprint within this window (the guide's "repeat incidents").
REPEAT_WINDOW = timedelta(days=30)


def repeat_incidents(incident: Incident) -> list[Incident]:
    """Other real incidents detected within ``REPEAT_WINDOW`` of this one that
    share one of its services and one of its alerts' fingerprints; two queries."""
    fingerprints = list(
        Alert.objects.filter(incident=incident).values_list("fingerprint", flat=True).distinct()
    )
    if not fingerprints:
        return []
    return list(
        Incident.objects.filter(
            is_drill=False,
            services__in=incident.services.all(),
            alerts__fingerprint__in=fingerprints,
            detected_at__gte=incident.detected_at - REPEAT_WINDOW,
            detected_at__lte=incident.detected_at + REPEAT_WINDOW,
        )
        .exclude(pk=incident.pk)
        .distinct()
        .order_by("-detected_at")
    )
