"""Reads for pages and the API, each in a constant number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import (
    OPEN_STATUSES,
    Deadline,
    Incident,
    RoleAssignment,
    Severity,
    SeverityPolicy,
    Status,
    TimelineEvent,
)


def _with_people(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.prefetch_related(
        "services",
        Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.filter(relieved_at__isnull=True).select_related("user"),
            to_attr="active_assignments",
        ),
        Prefetch(
            "deadlines",
            queryset=Deadline.objects.filter(met_at__isnull=True, cancelled_at__isnull=True),
            to_attr="pending_deadlines",
        ),
    )


SEVERITY_ORDER = [s.value for s in Severity]


def open_incidents() -> list[Incident]:
    """Open incidents sorted P0 → P3, oldest first (the board)."""
    rows = _with_people(Incident.objects.filter(status__in=OPEN_STATUSES))
    return sorted(rows, key=lambda i: (SEVERITY_ORDER.index(i.severity), i.detected_at))


def incidents_resolved_since(since) -> list[Incident]:
    return list(
        _with_people(
            Incident.objects.filter(status=Status.RESOLVED, resolved_at__gte=since)
        ).order_by("-resolved_at")
    )


def incident_list(**filters) -> QuerySet[Incident]:
    return _with_people(Incident.objects.filter(**filters))


def incident_by_ref(ref: str) -> Incident:
    return get_object_or_404(_with_people(Incident.objects.all()), ref=ref)


def incident_timeline(incident: Incident) -> QuerySet[TimelineEvent]:
    return incident.timeline.select_related("actor").order_by("-at", "-id")


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
        pending = list(incident.deadlines.filter(met_at__isnull=True, cancelled_at__isnull=True))
    if not pending:
        return None
    acks = [d for d in pending if d.kind == "acknowledge"]
    return acks[0] if acks else min(pending, key=lambda d: d.due_at)
