"""Scheduled maintenance: scheduling, rescheduling, its public updates and
its transitions (Statuspage's ``scheduled`` → ``in_progress`` → ``verifying``
→ ``completed``).

What time drives is ``Deadline`` rows about the maintenance (``subject``
"maintenance:<pk>", no incident), written here in the change's transaction:
a reminder to subscribers before it starts, and, with ``auto_transition``,
its start and its end. ``statuspage/engine.py`` fires them through the
sweep's registry (``maintenance_auto_start`` and the others below).

While it runs its components are ``under_maintenance``; when it completes
each goes back to the status it had before, unless something else changed
it meanwhile (an incident's outage stays an outage) or another running
maintenance still covers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from incidents import audit, clock
from incidents.errors import DomainError
from incidents.models import Deadline
from incidents.people import person_of
from incidents.services.checks import check_choice, check_field_text, check_text
from incidents.services.edits import UNSET, given

from .. import access
from ..models import (
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Maintenance,
    MaintenanceStatus,
    PublicUpdate,
)
from .components import apply_statuses
from .notify import maintenance_event
from .page import page_changed

MAX_BODY = 10_000
# Deadline kinds (Deadline.kind holds 16 characters).
START = "maint_start"
END = "maint_end"
REMIND = "maint_remind"
KINDS = (START, END, REMIND)

S = MaintenanceStatus
RUNNING = (S.IN_PROGRESS, S.VERIFYING)
# Where a status may go by hand. The same status again is a plain update;
# verifying may go back to in progress (the check failed); completed is final.
NEXT = {
    S.SCHEDULED: (S.SCHEDULED, S.IN_PROGRESS, S.COMPLETED),
    S.IN_PROGRESS: (S.IN_PROGRESS, S.VERIFYING, S.COMPLETED),
    S.VERIFYING: (S.IN_PROGRESS, S.VERIFYING, S.COMPLETED),
    S.COMPLETED: (),
}
# Statuspage's own words for the updates the engine posts.
STARTED_BODY = (
    "Scheduled maintenance is currently in progress. We will provide updates as necessary."
)
COMPLETED_BODY = "The scheduled maintenance has been completed."
# What a change may write besides the components (saved with update_fields).
EDITED = (
    "name",
    "scheduled_for",
    "scheduled_until",
    "auto_transition",
    "counts_as_downtime",
    "updated_at",
)
MOVED = ("status", "started_at", "resolved_at", "updated_at")
AUDITED = (
    "name",
    "status",
    "scheduled_for",
    "scheduled_until",
    "components",
    "auto_transition",
    "counts_as_downtime",
)


def subject_of(maintenance: Maintenance) -> str:
    """The ``Deadline.subject`` of a maintenance's rows."""
    return f"maintenance:{maintenance.pk}"


def components_by_code(codes) -> list[Component]:
    """Components from their ids (``code``), as the API and forms give them;
    ``DomainError`` naming ``components`` for anything else."""
    if codes is None:
        return []
    if isinstance(codes, str) or not isinstance(codes, Iterable):
        raise DomainError("components must be a list of component ids.", field="components")
    codes = list(codes)
    if not all(isinstance(code, str) for code in codes):
        raise DomainError("components must be a list of component ids.", field="components")
    found = {c.code: c for c in Component.objects.filter(code__in=codes)}
    missing = [code for code in codes if code not in found]
    if missing:
        raise DomainError(f"components: no component {missing[0]!r}.", field="components")
    return list({code: found[code] for code in codes}.values())


# --- checks -------------------------------------------------------------------------


def _check_flag(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise DomainError(f"{field} must be true or false.", field=field)
    return value


def _check_moment(value, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise DomainError(
            f"{field} must be a date and time with its offset (ISO 8601).", field=field
        )
    return value


def _check_window(scheduled_for, scheduled_until, now: datetime) -> tuple[datetime, datetime]:
    start = _check_moment(scheduled_for, "scheduled_for")
    end = _check_moment(scheduled_until, "scheduled_until")
    if end <= start:
        raise DomainError("scheduled_until must be after scheduled_for.", field="scheduled_until")
    if end <= now:
        raise DomainError(
            "scheduled_until is in the past: a maintenance is scheduled before it ends.",
            field="scheduled_until",
        )
    return start, end


def _check_components(components) -> list[Component]:
    if components is None:
        return []
    if isinstance(components, str) or not isinstance(components, Iterable):
        raise DomainError("components must be a list of components.", field="components")
    items = list(components)
    if not all(isinstance(c, Component) and c.pk for c in items):
        raise DomainError("components must be components of the status page.", field="components")
    wanted = {c.pk for c in items}
    found = list(Component.objects.filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise DomainError("components: a component no longer exists.", field="components")
    return found


def _check_body(value, field: str) -> str:
    return check_text(value, field, required=True, max_length=MAX_BODY, error=DomainError)


# --- what time drives ----------------------------------------------------------------


def _unfired(maintenance: Maintenance, kinds: tuple[str, ...] = KINDS):
    return Deadline.objects.filter(
        incident=None, subject=subject_of(maintenance), kind__in=kinds, fired_at__isnull=True
    ).pending()


def _cancel_rows(maintenance: Maintenance, now: datetime, kinds: tuple[str, ...] = KINDS) -> int:
    return _unfired(maintenance, kinds).update(cancelled_at=now)


def _add_row(maintenance: Maintenance, kind: str, due_at: datetime, now: datetime) -> Deadline:
    return Deadline.objects.create(
        incident=None,
        subject=subject_of(maintenance),
        kind=kind,
        starts_at=now,
        due_at=due_at,
        created_at=now,
    )


def _schedule_rows(maintenance: Maintenance, now: datetime) -> None:
    """The rows for what is still ahead of ``maintenance``:

    1. a reminder ``STATUS_PAGE_MAINTENANCE_REMINDER_MINUTES`` before it
       starts, if that moment is still ahead (closer, the scheduling notice
       itself is the news) and it has not started;
    2. with ``auto_transition``: its start, if it has not started, and its end.
    """
    m = maintenance
    if m.status == S.SCHEDULED:
        minutes = settings.STATUS_PAGE_MAINTENANCE_REMINDER_MINUTES
        remind_at = m.scheduled_for - timedelta(minutes=minutes)
        if minutes and remind_at > now:
            _add_row(m, REMIND, remind_at, now)
        if m.auto_transition:
            _add_row(m, START, m.scheduled_for, now)
    if m.auto_transition and m.status != S.COMPLETED:
        _add_row(m, END, m.scheduled_until, now)


# --- transitions -----------------------------------------------------------------------


def _start(m: Maintenance, *, actor, now: datetime) -> list[dict]:
    """In progress: its components under maintenance; the reminder and the
    start row are moot."""
    m.status = S.IN_PROGRESS
    m.started_at = m.started_at or now
    _cancel_rows(m, now, (START, REMIND))
    pairs = [(c, ComponentStatus.UNDER_MAINTENANCE) for c in m.components.select_for_update()]
    return apply_statuses(pairs, actor=actor, maintenance=m, notify_subscribers=False)


def _restore_pairs(m: Maintenance) -> list[tuple[Component, str]]:
    """Its components as they were before a maintenance put them under
    maintenance: only those still under maintenance whose last change was a
    maintenance's, and that no other running maintenance covers."""
    others = Maintenance.objects.exclude(pk=m.pk).filter(status__in=RUNNING)
    pairs = []
    for component in m.components.select_for_update().filter(
        status=ComponentStatus.UNDER_MAINTENANCE
    ):
        if others.filter(components=component).exists():
            continue
        last = ComponentStatusChange.objects.filter(component=component).order_by("-at", "-id")
        last = last.first()
        if last is None or last.maintenance_id is None:
            continue  # set under maintenance by hand: left as it is
        pairs.append((component, last.old_status or ComponentStatus.OPERATIONAL))
    return pairs


def _finish(m: Maintenance, *, actor, now: datetime) -> list[dict]:
    """Completed: its components restored (if it ever started), every row moot."""
    pairs = _restore_pairs(m) if m.started_at is not None else []
    m.status = S.COMPLETED
    m.resolved_at = now
    _cancel_rows(m, now)
    return apply_statuses(pairs, actor=actor, maintenance=m, notify_subscribers=False)


def _post(
    m: Maintenance,
    *,
    actor,
    body: str,
    event: str,
    now: datetime,
    affected: list[dict] | None = None,
) -> PublicUpdate:
    """The public update of a change (in the maintenance's status), the
    subscribers told, the page bumped."""
    update = PublicUpdate.objects.create(
        maintenance=m,
        status=m.status,
        body=body,
        affected_components=affected or [],
        created_at=now,
        updated_at=now,
        display_at=now,
        author=person_of(actor),
    )
    maintenance_event(maintenance=m, update=update, event=event)
    page_changed()
    return update


def _locked(maintenance: Maintenance) -> Maintenance:
    return Maintenance.objects.select_for_update().get(pk=maintenance.pk)


# --- the services ----------------------------------------------------------------------


@transaction.atomic
def maintenance_schedule(
    *,
    actor,
    name: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: Iterable[Component] = (),
    message: str,
    auto_transition: bool = True,
    counts_as_downtime: bool = False,
) -> Maintenance:
    """Announce a maintenance: shown on the page from now on, subscribers
    told, its reminder and (with ``auto_transition``) its start and end
    scheduled."""
    access.require_respond(actor)
    now = clock.now()
    name = check_field_text(Maintenance, "name", name)
    start, end = _check_window(scheduled_for, scheduled_until, now)
    found = _check_components(components)
    message = _check_body(message, "message")
    m = Maintenance.objects.create(
        name=name,
        scheduled_for=start,
        scheduled_until=end,
        auto_transition=_check_flag(auto_transition, "auto_transition"),
        counts_as_downtime=_check_flag(counts_as_downtime, "counts_as_downtime"),
        created_at=now,
        updated_at=now,
        created_by=person_of(actor),
    )
    m.components.set(found)
    _schedule_rows(m, now)
    audit.record(
        actor=actor, action="maintenance_schedule", obj=m, after=audit.snapshot(m, AUDITED)
    )
    _post(m, actor=actor, body=message, event="scheduled", now=now)
    return m


def _window_text(m: Maintenance) -> str:
    start, end = m.scheduled_for.astimezone(UTC), m.scheduled_until.astimezone(UTC)
    return f"Rescheduled: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC."


def _refuse_after_start(m: Maintenance, field: str) -> None:
    raise DomainError(
        f"“{m.name}” has started: its {field} can no longer change.", field=field, conflict=True
    )


@transaction.atomic
def maintenance_update(
    *,
    actor,
    maintenance: Maintenance,
    name: str = UNSET,
    scheduled_for: datetime = UNSET,
    scheduled_until: datetime = UNSET,
    components: Iterable[Component] = UNSET,
    auto_transition: bool = UNSET,
    counts_as_downtime: bool = UNSET,
    message: str = UNSET,
) -> Maintenance:
    """Edit a maintenance. Moving its times (or turning ``auto_transition``
    on or off) moves its deadline rows and posts an update (``message``, or
    the new times); ``message`` alone posts an update. Once it has started
    its start and components stay; once completed only its name and
    ``counts_as_downtime`` change."""
    access.require_respond(actor)
    m = _locked(maintenance)
    now = clock.now()
    changes = given(
        name=name,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        components=components,
        auto_transition=auto_transition,
        message=message,
    )
    if m.status == S.COMPLETED:
        for field in changes:
            if field != "name":
                raise DomainError(
                    f"“{m.name}” is completed: only its name and counts_as_downtime change.",
                    field=field,
                    conflict=True,
                )
    before = audit.snapshot(m, AUDITED)
    started = m.status != S.SCHEDULED
    if name is not UNSET:
        m.name = check_field_text(Maintenance, "name", name)
    window = (m.scheduled_for, m.scheduled_until)
    if scheduled_for is not UNSET or scheduled_until is not UNSET:
        start, end = (
            scheduled_for if scheduled_for is not UNSET else m.scheduled_for,
            scheduled_until if scheduled_until is not UNSET else m.scheduled_until,
        )
        start, end = _check_window(start, end, now)
        if started and start != m.scheduled_for:
            _refuse_after_start(m, "scheduled_for")
        m.scheduled_for, m.scheduled_until = start, end
    found = None
    if components is not UNSET:
        found = _check_components(components)
        if {c.pk for c in found} == {c.pk for c in m.components.all()}:
            found = None
        elif started:
            _refuse_after_start(m, "components")
    flags_before = (m.auto_transition, m.counts_as_downtime)
    if auto_transition is not UNSET:
        m.auto_transition = _check_flag(auto_transition, "auto_transition")
    if counts_as_downtime is not UNSET:
        m.counts_as_downtime = _check_flag(counts_as_downtime, "counts_as_downtime")
    body = _check_body(message, "message") if message is not UNSET else None

    moved = (m.scheduled_for, m.scheduled_until) != window
    retimed = moved or m.auto_transition != flags_before[0]
    if found is not None:
        m.components.set(found)
    if retimed:
        _cancel_rows(m, now)
        _schedule_rows(m, now)
    changed = audit.record(
        actor=actor,
        action="maintenance_update",
        obj=m,
        before=before,
        after=audit.snapshot(m, AUDITED),
    )
    if changed is None and body is None:
        return m
    m.updated_at = now
    m.save(update_fields=EDITED)
    if moved or body is not None:
        _post(m, actor=actor, body=body or _window_text(m), event="updated", now=now)
    else:
        page_changed()
    return m


@transaction.atomic
def maintenance_post_update(
    *, actor, maintenance: Maintenance, status: str, body: str
) -> PublicUpdate:
    """A responder's update: the same status again (a note), or the next
    one by hand. In progress puts its components under maintenance,
    completed restores them."""
    access.require_respond(actor)
    m = _locked(maintenance)
    status = check_choice(status, MaintenanceStatus, "status", error=DomainError)
    body = _check_body(body, "body")
    if m.status == S.COMPLETED:
        raise DomainError(
            f"“{m.name}” is completed; schedule a new maintenance instead.",
            field="status",
            conflict=True,
        )
    if status not in NEXT[m.status]:
        raise DomainError(
            f"A maintenance that is {m.get_status_display().lower()} cannot move to {status}.",
            field="status",
            conflict=True,
        )
    now = clock.now()
    before = audit.snapshot(m, AUDITED)
    affected: list[dict] = []
    event = "updated"
    if status == S.COMPLETED:
        affected, event = _finish(m, actor=actor, now=now), "completed"
    elif status == S.IN_PROGRESS and m.status == S.SCHEDULED:
        affected, event = _start(m, actor=actor, now=now), "started"
    m.status = status
    m.updated_at = now
    m.save(update_fields=MOVED)
    audit.record(
        actor=actor,
        action="maintenance_post_update",
        obj=m,
        before=before,
        after=audit.snapshot(m, AUDITED),
    )
    return _post(m, actor=actor, body=body, event=event, now=now, affected=affected)


@transaction.atomic
def maintenance_delete(*, actor, maintenance: Maintenance) -> None:
    """Take back a maintenance that has not started (its rows cancelled).
    One that has started is history: complete it instead."""
    access.require_respond(actor)
    m = _locked(maintenance)
    if m.status != S.SCHEDULED:
        raise DomainError(
            f"“{m.name}” has started; post a completed update instead of deleting it.",
            field="status",
            conflict=True,
        )
    _cancel_rows(m, clock.now())
    audit.record(
        actor=actor,
        action="maintenance_delete",
        obj=m,
        before=audit.snapshot(m, AUDITED),
        object_id=m.pk,
    )
    m.delete()
    page_changed()


# --- fired by the engine (statuspage/engine.py), the maintenance locked ----------------


def maintenance_auto_start(*, maintenance: Maintenance, now: datetime) -> PublicUpdate | None:
    """Its start time came: in progress, unless it was started (or
    completed) by hand already or no longer moves on by itself."""
    m = maintenance
    if m.status != S.SCHEDULED or not m.auto_transition:
        return None
    affected = _start(m, actor=None, now=now)
    m.updated_at = now
    m.save(update_fields=MOVED)
    return _post(m, actor=None, body=STARTED_BODY, event="started", now=now, affected=affected)


def maintenance_auto_complete(*, maintenance: Maintenance, now: datetime) -> PublicUpdate | None:
    """Its end time came: completed, its components restored."""
    m = maintenance
    if m.status == S.COMPLETED or not m.auto_transition:
        return None
    affected = _finish(m, actor=None, now=now)
    m.updated_at = now
    m.save(update_fields=MOVED)
    return _post(m, actor=None, body=COMPLETED_BODY, event="completed", now=now, affected=affected)


def maintenance_remind(*, maintenance: Maintenance, now: datetime) -> bool:
    """Remind the subscribers of a maintenance about to start (not of one
    that started already, nor after its start time: a late engine skips it)."""
    m = maintenance
    if m.status != S.SCHEDULED or now >= m.scheduled_for:
        return False
    latest = m.updates.order_by("-display_at", "-id").first()
    maintenance_event(maintenance=m, update=latest, event="reminder")
    return True
