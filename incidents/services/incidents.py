"""Every change to an incident is one function here (STYLE.md convention 1).

Each is atomic, locks the incident row, checks the guide's rules, writes its
``TimelineEvent`` and deadline rows in the same transaction and returns the
fresh incident. An illegal change raises ``IncidentError`` and writes nothing.
The dashboard, the API, admin actions and tasks all call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from .. import clock, lifecycle, publication
from ..engine import deadlines, escalation, paging
from ..errors import DomainError, IncidentError
from ..models import (
    SINGLE_ROLES,
    DeadlineKind,
    EscalationPath,
    EventKind,
    Incident,
    MessageKind,
    Role,
    RoleAssignment,
    Severity,
    Source,
    Status,
    StatusUpdate,
    TimelineEvent,
    Visibility,
)
from ..notify import outbox
from ..people import person_of
from ..timebounds import check_typed_time
from .checks import check_choice, check_text, next_reference, policy_for, require_open, service_rows

User = get_user_model()

TITLE_MAX = 200


# --- helpers -----------------------------------------------------------------


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


_event = TimelineEvent.record


def _lock_to_change(
    incident: Incident, *, field: str, value, choices, action: str
) -> tuple[Incident, str]:
    """The locked incident and ``value``, checked as the new ``field`` of an
    open incident: one of ``choices``, and not what it is already."""
    incident = _lock(incident)
    value = check_choice(value, choices, field)
    require_open(incident, action)
    if value == getattr(incident, field):
        raise IncidentError(f"{incident.ref} is already {value}.", conflict=True)
    return incident, value


def _changed(incident: Incident, kind: str, actor, *, at, before: dict, message: str) -> None:
    """The timeline's record of the fields in ``before`` changed to what they are now."""
    after = {field: getattr(incident, field) for field in before}
    _event(incident, kind, actor, at=at, message=message, before=before, after=after)


# --- services ----------------------------------------------------------------


@transaction.atomic
def incident_declare(
    *,
    actor,
    title: str,
    severity: str,
    summary: str = "",
    impact: str = "",
    services: Iterable[str] = (),
    source: str = Source.TEAM_MEMBER,
    is_drill: bool = False,
    customer_impacting: bool = False,
    detected_at: datetime | None = None,
    commander=None,
    severity_reasons: Iterable[str] = (),
) -> Incident:
    """Open an incident.

    1. Validate the input (title, severity, source, detection time).
    2. Allocate the reference for the day of detection.
    3. Write the incident, its services and the ``declared`` event.
    4. Schedule the guide's deadlines for its severity (acknowledge, resolve,
       first status update), each recording the severity in force.
    5. Copy both escalation policies onto it.
    6. Optionally put a commander in charge.
    7. Write the initial alert to the channels (sent after commit).
    8. L1 of the technical path is reached (and paged when the severity pages
       on-call), later levels get their deadlines; a customer-impacting
       incident starts the business path.

    ``severity_reasons`` says why this severity was chosen when TreeBeard
    suggested it (alert labels, error rate, keywords); it goes on the timeline.
    """
    now = clock.now()
    title = check_text(title, "title", required=True, max_length=TITLE_MAX)
    severity = check_choice(severity, Severity, "severity")
    source = check_choice(source, Source, "source")
    summary = check_text(summary, "summary", required=False)
    impact = check_text(impact, "impact", required=False)
    detected_at = check_typed_time(
        detected_at or now, field="detected_at", allow_future=False, now=now
    )
    policy = policy_for(severity)
    rows = service_rows(services)

    incident = Incident.objects.create(
        ref=next_reference(detected_at),
        title=title,
        summary=summary,
        impact=impact,
        severity=severity,
        source=source,
        is_drill=bool(is_drill) or source == Source.DRILL,
        customer_impacting=bool(customer_impacting),
        detected_at=detected_at,
        declared_at=now,
        declared_by=person_of(actor),
    )
    if rows:
        incident.services.set(rows)
    reasons = [str(r) for r in severity_reasons]
    message = f"Declared {policy.severity} {policy.name}: {title}"
    if reasons:
        message += "\nSeverity: " + "; ".join(reasons)
    declared = _event(
        incident,
        EventKind.DECLARED,
        actor,
        at=now,
        message=message,
        after={
            "severity": severity,
            "status": incident.status,
            "source": source,
            "services": [s.name for s in rows],
            "is_drill": incident.is_drill,
        },
        detail={"detected_at": detected_at.isoformat(), "severity_reasons": reasons},
    )
    deadlines.schedule_all(incident, policy, now)
    escalation.copy_policies(incident, now)
    if commander is not None:
        incident = incident_assign_role(
            incident=incident, actor=actor, role=Role.COMMANDER, user=commander
        )
    # The initial alert first (it names the commander), then the pages.
    outbox.notify_incident(incident=incident, event=declared, message_kind=MessageKind.INITIAL)
    escalation.start_technical(incident, now)
    if incident.customer_impacting:
        escalation.start_business(incident, now)
    return incident


@transaction.atomic
def incident_acknowledge(*, incident: Incident, actor) -> Incident:
    incident = _lock(incident)
    require_open(incident, "acknowledge it")
    if incident.acknowledged_at is not None:
        raise IncidentError(f"{incident.ref} is already acknowledged.", conflict=True)
    now = clock.now()
    incident.acknowledged_at = now
    incident.save(update_fields=["acknowledged_at"])
    deadlines.meet(incident, DeadlineKind.ACKNOWLEDGE, now)
    escalation.on_acknowledged(incident, now)
    event = _event(
        incident,
        EventKind.ACKNOWLEDGED,
        actor,
        at=now,
        after={"acknowledged_at": now.isoformat()},
        detail={"seconds_to_acknowledge": int((now - incident.detected_at).total_seconds())},
    )
    outbox.notify_incident(incident=incident, event=event, message_kind=MessageKind.ACKNOWLEDGED)
    return incident


@transaction.atomic
def incident_assign_role(*, incident: Incident, actor, role: str, user) -> Incident:
    """Give ``user`` a role. Commander and communications lead are single:
    assigning one hands it over (the previous holder is relieved, both stay
    in the history). Technical responders accumulate."""
    incident = _lock(incident)
    role = check_choice(role, Role, "role")
    require_open(incident, "assign roles")
    if user is None or not getattr(user, "is_active", False):
        raise IncidentError("user must be an active person.", field="user")
    if not user.has_perm("incidents.respond_incident"):
        raise IncidentError(
            f"{user.get_username()} is not a responder; only responders can hold incident roles.",
            field="user",
        )
    now = clock.now()
    active = RoleAssignment.objects.filter(incident=incident, role=role, relieved_at__isnull=True)
    if active.filter(user=user).exists():
        raise IncidentError(
            f"{user.get_username()} is already {Role(role).label.lower()} of {incident.ref}.",
            conflict=True,
        )
    previous = None
    if role in SINGLE_ROLES:
        current = active.select_related("user").first()
        if current is not None:
            previous = current.user
            current.relieved_at = now
            current.save(update_fields=["relieved_at"])
    RoleAssignment.objects.create(
        incident=incident, role=role, user=user, assigned_at=now, assigned_by=person_of(actor)
    )
    label = Role(role).label
    if previous is not None:
        message = f"{label} handed over from {previous.get_username()} to {user.get_username()}"
    else:
        message = f"{user.get_username()} is now {label.lower()}"
    _event(
        incident,
        EventKind.ROLE_ASSIGNED,
        actor,
        at=now,
        message=message,
        before={"role": role, "user": previous.get_username()} if previous else None,
        after={"role": role, "user": user.get_username()},
    )
    return incident


@transaction.atomic
def incident_relieve_role(*, incident: Incident, actor, role: str, user) -> Incident:
    """Take a role away without a successor (e.g. a responder leaves)."""
    incident = _lock(incident)
    role = check_choice(role, Role, "role")
    now = clock.now()
    updated = RoleAssignment.objects.filter(
        incident=incident, role=role, user=user, relieved_at__isnull=True
    ).update(relieved_at=now)
    if not updated:
        raise IncidentError(
            f"{user.get_username()} is not {Role(role).label.lower()} of {incident.ref}.",
            conflict=True,
        )
    _event(
        incident,
        EventKind.ROLE_RELIEVED,
        actor,
        at=now,
        message=f"{user.get_username()} is no longer {Role(role).label.lower()}",
        before={"role": role, "user": user.get_username()},
    )
    return incident


def _apply_status(incident: Incident, status: str, now: datetime) -> list[str]:
    """Set the status and the moment it first reached each stage."""
    fields = ["status"]
    incident.status = status
    if status in (Status.IDENTIFIED, Status.MONITORING) and incident.identified_at is None:
        incident.identified_at = now
        fields.append("identified_at")
        # The guide's progress: once the cause is identified nobody more is paged.
        escalation.on_identified(incident, now)
    if status == Status.MONITORING and incident.mitigated_at is None:
        incident.mitigated_at = now
        fields.append("mitigated_at")
    return fields


def _refuse_resolving(status: str) -> None:
    """Resolving needs a root cause: only ``incident_resolve`` resolves."""
    if status == Status.RESOLVED:
        raise IncidentError(
            "Resolve the incident with a root cause and resolution (the resolve action).",
            field="status",
        )


def _move(incident: Incident, status: str, actor, now: datetime, *, note: str = "") -> None:
    """Move the incident on to ``status`` and put that on the timeline, with
    the actor's (checked) note."""
    before = {"status": incident.status}
    incident.save(update_fields=_apply_status(incident, status, now))
    _changed(incident, EventKind.STATUS_CHANGED, actor, at=now, before=before, message=note)


@transaction.atomic
def incident_change_status(*, incident: Incident, actor, status: str, note: str = "") -> Incident:
    """Move between investigating, identified and monitoring (either way:
    a fix that did not hold goes back to investigating). Resolving needs a
    root cause, so it is ``incident_resolve``."""
    incident, status = _lock_to_change(
        incident, field="status", value=status, choices=Status, action="change its status"
    )
    _refuse_resolving(status)
    _move(incident, status, actor, clock.now(), note=check_text(note, "note", required=False))
    return incident


@transaction.atomic
def incident_post_update(
    *,
    incident: Incident,
    actor,
    message: str,
    status: str | None = None,
    visibility: str = Visibility.INTERNAL,
    components: list | None = None,
) -> StatusUpdate:
    """Post a status update (the guide's "📊 UPDATE"); it may move the status
    on, and it resets the update-cadence clock. A public one also goes to the
    status page (``incidents/publication.py``), with ``components``'
    statuses ([{"id", "status"}]) if given."""
    incident = _lock(incident)
    message = check_text(message, "message", required=True, max_length=10_000)
    visibility = check_choice(visibility, Visibility, "visibility")
    status = incident.status if status in (None, "") else check_choice(status, Status, "status")
    require_open(incident, "post an update")
    _refuse_resolving(status)
    if components and visibility != Visibility.PUBLIC:
        raise DomainError(
            "Component statuses change only with a public update.", field="components"
        )
    now = clock.now()
    if status != incident.status:
        _move(incident, status, actor, now)
    update = StatusUpdate.objects.create(
        incident=incident,
        author=person_of(actor),
        status=status,
        message=message,
        visibility=visibility,
        posted_at=now,
    )
    event = _event(
        incident,
        EventKind.UPDATE_POSTED,
        actor,
        at=now,
        message=message,
        detail={"update_id": update.pk, "status": status, "visibility": visibility},
    )
    if visibility == Visibility.PUBLIC:
        publication.public_update_posted(
            incident=incident, update=update, actor=actor, components=components
        )
    policy = policy_for(incident.severity)
    deadlines.meet(incident, DeadlineKind.UPDATE, now)
    deadlines.schedule_update(incident, policy, now)
    cadence = policy.update_cadence_seconds
    outbox.notify_incident(
        incident=incident,
        event=event,
        message_kind=MessageKind.UPDATE,
        extra={
            "message": message,
            "posted_at": now.isoformat(),
            "update_id": update.pk,
            "visibility": visibility,
            "next_update_minutes": cadence // 60 if cadence else None,
        },
    )
    return update


@transaction.atomic
def incident_change_severity(
    *, incident: Incident, actor, severity: str, reason: str = ""
) -> Incident:
    """Re-grade an incident. Its pending deadlines are replaced by the new
    policy's, measured from detection; the old rows stay, cancelled, so
    metrics can see which policy was in force when."""
    incident, severity = _lock_to_change(
        incident, field="severity", value=severity, choices=Severity, action="change its severity"
    )
    policy = policy_for(severity)
    reason = check_text(reason, "reason", required=False)
    now = clock.now()
    before = {"severity": incident.severity}
    incident.severity = severity
    incident.save(update_fields=["severity"])
    deadlines.cancel(incident, deadlines.SLA_KINDS, now)
    deadlines.schedule_all(incident, policy, now)
    escalation.replan(incident, now)
    _changed(incident, EventKind.SEVERITY_CHANGED, actor, at=now, before=before, message=reason)
    return incident


@transaction.atomic
def incident_mitigate(*, incident: Incident, actor, note: str = "") -> Incident:
    """Record that the impact has stopped (the guide's "Mitigation"); the
    incident moves to monitoring while the fix is verified."""
    incident = _lock(incident)
    require_open(incident, "mitigate it")
    if incident.mitigated_at is not None:
        raise IncidentError(f"{incident.ref} is already mitigated.", conflict=True)
    now = clock.now()
    before = {"status": incident.status}
    fields = _apply_status(incident, Status.MONITORING, now)
    incident.mitigated_at = now
    incident.save(update_fields=sorted(set(fields) | {"mitigated_at"}))
    _event(
        incident,
        EventKind.MITIGATED,
        actor,
        at=now,
        message=check_text(note, "note", required=False),
        before=before,
        after={"status": incident.status, "mitigated_at": now.isoformat()},
    )
    return incident


@transaction.atomic
def incident_resolve(
    *,
    incident: Incident,
    actor,
    root_cause: str,
    resolution: str = "",
    false_positive: bool = False,
) -> Incident:
    """Close an incident. The guide's resolution notice needs a root cause;
    every stage time not yet set takes the resolution time, and every
    pending deadline is closed."""
    incident = _lock(incident)
    root_cause = check_text(root_cause, "root_cause", required=True)
    resolution = check_text(resolution, "resolution", required=False)
    if incident.status == Status.RESOLVED:
        raise IncidentError(f"{incident.ref} is already resolved.", conflict=True)
    now = clock.now()
    before = {"status": incident.status}
    incident.status = Status.RESOLVED
    incident.resolved_at = now
    incident.identified_at = incident.identified_at or now
    incident.mitigated_at = incident.mitigated_at or now
    incident.root_cause = root_cause
    incident.resolution = resolution
    incident.false_positive = bool(false_positive)
    incident.save(
        update_fields=[
            "status",
            "resolved_at",
            "identified_at",
            "mitigated_at",
            "root_cause",
            "resolution",
            "false_positive",
        ]
    )
    deadlines.meet(incident, DeadlineKind.RESOLVE, now)
    # Every pending deadline closes, escalation steps included: both chains stop.
    deadlines.cancel(incident, None, now)
    event = _event(
        incident,
        EventKind.RESOLVED,
        actor,
        at=now,
        message=resolution or root_cause,
        before=before,
        after={
            "status": Status.RESOLVED,
            "root_cause": root_cause,
            "resolution": resolution,
            "false_positive": incident.false_positive,
        },
        detail={"duration_seconds": int((now - incident.detected_at).total_seconds())},
    )
    outbox.notify_incident(incident=incident, event=event, message_kind=MessageKind.RESOLVED)
    lifecycle.resolved(incident=incident, actor=actor, now=now)
    return incident


@transaction.atomic
def incident_reopen(*, incident: Incident, actor, reason: str) -> Incident:
    """Reopen a resolved incident: back to investigating with fresh resolve
    and update deadlines; the earlier resolution stays on the timeline."""
    incident = _lock(incident)
    reason = check_text(reason, "reason", required=True)
    if incident.status != Status.RESOLVED:
        raise IncidentError(f"{incident.ref} is not resolved.", conflict=True)
    now = clock.now()
    before = {
        "status": incident.status,
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "root_cause": incident.root_cause,
    }
    incident.status = Status.INVESTIGATING
    incident.resolved_at = None
    incident.reopen_count += 1
    incident.save(update_fields=["status", "resolved_at", "reopen_count"])
    policy = policy_for(incident.severity)
    deadlines.schedule_update(incident, policy, now)
    deadlines.schedule_resolve(incident, policy, now, starts_at=now)
    event = _event(
        incident,
        EventKind.REOPENED,
        actor,
        at=now,
        message=reason,
        before=before,
        after={"status": Status.INVESTIGATING},
    )
    outbox.notify_incident(incident=incident, event=event, message_kind=MessageKind.REOPENED)
    return incident


EDITABLE_FIELDS = ("title", "summary", "impact", "services", "customer_impacting")


@transaction.atomic
def incident_update_fields(*, incident: Incident, actor, **changes) -> Incident:
    """Edit descriptive fields (title, summary, impact, services,
    customer_impacting). Severity and status have their own services."""
    incident = _lock(incident)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise IncidentError(f"{name} cannot be edited here.", field=name)
    now = clock.now()
    before: dict = {}
    after: dict = {}
    fields: list[str] = []
    for name in ("title", "summary", "impact"):
        if name in changes:
            value = check_text(
                changes[name],
                name,
                required=name == "title",
                max_length=TITLE_MAX if name == "title" else None,
            )
            if value != getattr(incident, name):
                before[name], after[name] = getattr(incident, name), value
                setattr(incident, name, value)
                fields.append(name)
    if "customer_impacting" in changes:
        value = changes["customer_impacting"]
        if not isinstance(value, bool):
            raise IncidentError(
                "customer_impacting must be true or false.", field="customer_impacting"
            )
        if value != incident.customer_impacting:
            before["customer_impacting"], after["customer_impacting"] = (
                incident.customer_impacting,
                value,
            )
            incident.customer_impacting = value
            fields.append("customer_impacting")
    if "services" in changes:
        rows = service_rows(changes["services"] or ())
        old = sorted(incident.services.values_list("name", flat=True))
        new = sorted(s.name for s in rows)
        if old != new:
            incident.services.set(rows)
            before["services"], after["services"] = old, new
    if fields:
        incident.save(update_fields=fields)
    if after:
        _event(incident, EventKind.FIELDS_CHANGED, actor, at=now, before=before, after=after)
    if "customer_impacting" in after:
        # After the edit's own event, so the timeline reads cause, then effect.
        escalation.on_customer_impact(incident, now, impacting=after["customer_impacting"])
    return incident


@transaction.atomic
def incident_escalate(
    *, incident: Incident, actor, reason: str, path: str = EscalationPath.TECHNICAL
) -> Incident:
    """Climb one level of an escalation path by hand, with a reason.

    The technical path goes up one level (L4 only for P0); the business path
    starts at L1 or climbs. The level's people are paged and the channels
    told; the timeline names who was notified.
    """
    incident = _lock(incident)
    reason = check_text(reason, "reason", required=True)
    path = check_choice(path, EscalationPath, "path")
    require_open(incident, "escalate it")
    event = escalation.escalate_by_hand(incident, path, clock.now(), actor=actor, reason=reason)
    # Who was paged and how (or that nobody could be), for the dashboard's
    # flash and the API's answer.
    incident.escalation_outcome = paging.outcome(event)
    return incident
