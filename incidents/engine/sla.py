"""The SLA sweep: fire every due deadline row exactly once (DESIGN.md
"Time-driven rules", STYLE.md rule 4).

A beat task calls ``sweep`` every few seconds. It claims due rows with
``SELECT … FOR UPDATE SKIP LOCKED`` (served by the partial index
``deadline_pending_due``), so two beats or several workers never take the same
row, and it marks each row fired in the same transaction as the handler's
effects, so a row fires once and only once: a crash before commit leaves it
unfired for the next sweep, nothing half-done.

Handlers are looked up by deadline kind in a registry; later issues add
theirs (post-mortem, action items) with ``register``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.db import transaction

from .. import clock
from ..durations import duration
from ..models import (
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    MessageKind,
    SeverityPolicy,
    SlaBreach,
    TimelineEvent,
)
from ..notify import outbox
from . import deadlines, escalation

log = logging.getLogger(__name__)

# Read by the watchdog (incidents/engine/watchdog.py) and the admin's engine page.
HEARTBEAT_KEY = "engine:last_sweep"
# One sweep stops starting new batches after this long, so a backlog never
# makes a beat task run for minutes; the next beat carries on.
TIME_BUDGET_SECONDS = 2.0

Handler = Callable[..., None]
HANDLERS: dict[str, Handler] = {}


# What a page calls another app's deadline kind ("Post-mortem reminder").
LABELS: dict[str, str] = {}


def register(kind: str, handler: Handler, *, label: str = "") -> None:
    """Fire ``handler(deadline=…, incident=…, now=…)`` for deadlines of ``kind``.
    It runs with the incident row locked, inside the sweep's transaction; for
    a row about another app's object (``subject``), ``incident`` is None.
    ``label``: how pages name a kind that is not a ``DeadlineKind``."""
    HANDLERS[kind] = handler
    if label:
        LABELS[kind] = label


# --- handlers --------------------------------------------------------------------


def record_breach(deadline: Deadline, incident: Incident, now: datetime) -> SlaBreach:
    """The breach row the metrics read: which SLA, its target, when it was due."""
    return SlaBreach.objects.create(
        incident=incident,
        deadline=deadline,
        kind=deadline.kind,
        severity=deadline.severity,
        target_seconds=deadline.target_seconds,
        due_at=deadline.due_at,
        detected_at=now,
    )


def breach_message(deadline: Deadline) -> str:
    target = duration(deadline.target_seconds)
    if deadline.kind == DeadlineKind.UPDATE:
        return f"No status update for {target}: an update is due"
    name = deadline.get_kind_display()
    if deadline.target_seconds:
        return f"{name} target of {target} missed"
    return f"{name} target (next business day) missed"


def _breach_event(deadline: Deadline, incident: Incident, now: datetime) -> TimelineEvent:
    record_breach(deadline, incident, now)
    return TimelineEvent.record(
        incident,
        EventKind.SLA_BREACHED,
        None,
        at=now,
        message=breach_message(deadline),
        detail={
            "sla": deadline.kind,
            "due_at": deadline.due_at.isoformat(),
            "target_seconds": deadline.target_seconds,
        },
    )


def _extra(deadline: Deadline, now: datetime) -> dict:
    return {
        "sla": deadline.kind,
        "due_at": deadline.due_at.isoformat(),
        "target_seconds": deadline.target_seconds,
        "late_seconds": max(int((now - deadline.due_at).total_seconds()), 0),
    }


def fire_breach(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    """Acknowledge and resolve targets: breach, timeline, channels."""
    if not incident.is_open:
        return
    event = _breach_event(deadline, incident, now)
    outbox.notify_incident(
        incident=incident,
        event=event,
        message_kind=MessageKind.SLA_BREACH,
        extra=_extra(deadline, now),
    )


def fire_update_due(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    """The update cadence passed without an update: breach, a reminder to the
    channels and the commander, and the next reminder one cadence of the
    policy in force later (``deadlines.schedule_update``, as after a posted
    update), so reminders repeat until someone posts an update."""
    if not incident.is_open:
        return
    event = _breach_event(deadline, incident, now)
    extra = _extra(deadline, now)
    outbox.notify_incident(
        incident=incident, event=event, message_kind=MessageKind.UPDATE_DUE, extra=extra
    )
    commander = incident.commander
    if commander is not None:
        outbox.page_people(
            incident=incident,
            event=event,
            users=[commander],
            message_kind=MessageKind.UPDATE_DUE,
            extra=extra,
        )
    policy = SeverityPolicy.objects.filter(severity=incident.severity).first()
    if policy is not None:
        deadlines.schedule_update(incident, policy, now, after=deadline)


def fire_escalation(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    escalation.fire(deadline=deadline, incident=incident, now=now)


def fire_record_only(*, deadline: Deadline, incident: Incident, now: datetime) -> None:
    """Default for deadlines whose issue has not registered a handler yet."""
    record_breach(deadline, incident, now)


register(DeadlineKind.ACKNOWLEDGE, fire_breach)
register(DeadlineKind.RESOLVE, fire_breach)
register(DeadlineKind.UPDATE, fire_update_due)
register(DeadlineKind.ESCALATION, fire_escalation)
register(DeadlineKind.POSTMORTEM, fire_record_only)
register(DeadlineKind.ACTION_ITEM, fire_record_only)


# --- the sweep -------------------------------------------------------------------------


def _fire_one(deadline: Deadline, now: datetime, *, recheck: bool = False) -> str:
    """Fire one claimed row in its own savepoint; returns "fired", "busy",
    "closed" or "failed". ``recheck``: an earlier row of the same batch and
    incident may have closed this one (progress stops an escalation chain).

    The incident is locked with SKIP LOCKED: services lock the incident first
    and then update its deadline rows, while the sweep already holds the
    deadline's lock. Waiting for the incident here could deadlock with such a
    service, so a busy incident is left for the next sweep instead.
    """
    if deadline.incident_id is None:
        return _fire_subject(deadline, now)
    try:
        with transaction.atomic():
            incident = (
                Incident.objects.select_for_update(skip_locked=True)
                .filter(pk=deadline.incident_id)
                # Messages show the roles: one query instead of one per role.
                .with_people()
                .first()
            )
            if incident is None:
                return "busy"
            if recheck and not Deadline.objects.due(now).filter(pk=deadline.pk).exists():
                return "closed"
            handler = HANDLERS.get(deadline.kind, fire_record_only)
            handler(deadline=deadline, incident=incident, now=now)
            Deadline.objects.filter(pk=deadline.pk, fired_at__isnull=True).update(fired_at=now)
            return "fired"
    except Exception:
        # A handler that raises leaves its row unfired (the savepoint undid
        # everything it wrote) rather than fired-and-forgotten: a deadline is a
        # promise of the guide and must be delayed, never lost. It is skipped
        # for the rest of this sweep, so it cannot starve the others, and
        # retried by the next one; a row that keeps failing ages on the
        # watchdog (/readyz turns 503 after ENGINE_STALL_SECONDS), which is
        # how an operator learns of the bug.
        log.exception(
            "Deadline %s (%s) could not be fired; it stays due.", deadline.pk, deadline.kind
        )
        return "failed"


def _fire_subject(deadline: Deadline, now: datetime) -> str:
    """Fire a row about another app's object (``subject``, no incident): its
    handler locks what it needs. Failures are kept due, as in ``_fire_one``."""
    handler = HANDLERS.get(deadline.kind)
    if handler is None:
        log.error("No handler is registered for deadline kind %r; it stays due.", deadline.kind)
        return "failed"
    try:
        with transaction.atomic():
            handler(deadline=deadline, incident=None, now=now)
            Deadline.objects.filter(pk=deadline.pk, fired_at__isnull=True).update(fired_at=now)
            return "fired"
    except Exception:
        log.exception(
            "Deadline %s (%s) could not be fired; it stays due.", deadline.pk, deadline.kind
        )
        return "failed"


def _sweep_batch(now: datetime, batch: int, skip: set[int]) -> tuple[int, int]:
    """Claim up to ``batch`` due rows and fire them; returns (claimed, fired).
    Rows that were busy or failed are added to ``skip``."""
    fired = 0
    with transaction.atomic():
        claimed = Deadline.objects.due(now).order_by("due_at").select_for_update(skip_locked=True)
        if skip:
            claimed = claimed.exclude(pk__in=skip)
        rows = list(claimed[:batch])
        seen: set[int] = set()
        for deadline in rows:
            recheck = deadline.incident_id is not None and deadline.incident_id in seen
            outcome = _fire_one(deadline, now, recheck=recheck)
            seen.add(deadline.incident_id)
            if outcome == "fired":
                fired += 1
            elif outcome != "closed":
                skip.add(deadline.pk)
    return len(rows), fired


def sweep(
    *, now: datetime | None = None, batch: int = 200, budget_seconds: float = TIME_BUDGET_SECONDS
) -> int:
    """Fire every due deadline; returns how many fired.

    1. Claim a batch of due rows, oldest first, skipping rows another sweep holds.
    2. Fire each in its own savepoint with the incident locked (SKIP LOCKED);
       mark it fired in the same transaction; commit the batch.
    3. Repeat while batches come back full and the time budget lasts.
    4. Leave a heartbeat for the watchdog.
    """
    started = time.monotonic()
    fixed_now = now
    skip: set[int] = set()
    total = 0
    while True:
        moment = fixed_now or clock.now()
        claimed, fired = _sweep_batch(moment, batch, skip)
        total += fired
        if claimed < batch or time.monotonic() - started >= budget_seconds:
            break
    _heartbeat(fixed_now or clock.now())
    return total


def _heartbeat(now: datetime) -> None:
    try:
        cache.set(HEARTBEAT_KEY, now.isoformat(), timeout=None)
    except Exception as exc:  # the cache (Redis) being down must not fail the sweep
        log.warning("Could not record the sweep heartbeat: %s", exc)
