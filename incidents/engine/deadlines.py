"""Deadlines of the guide as rows (DESIGN.md "Time-driven rules").

Only incident services call these, inside their own transaction, so a
deadline is created, met or cancelled atomically with the change that causes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import Deadline, DeadlineKind, Incident, SeverityPolicy, SlaBreach
from .business_hours import next_business_day_end

SLA_KINDS = (DeadlineKind.ACKNOWLEDGE, DeadlineKind.UPDATE, DeadlineKind.RESOLVE)


def _create(
    incident: Incident,
    policy: SeverityPolicy,
    kind: str,
    *,
    starts_at: datetime,
    seconds: int | None,
    now: datetime,
    due_at: datetime | None = None,
) -> Deadline:
    """A deadline ``seconds`` after ``starts_at``; ``due_at`` for a target that
    is no duration (the next business day, ``seconds`` None)."""
    return Deadline.objects.create(
        incident=incident,
        kind=kind,
        severity=policy.severity,
        target_seconds=seconds,
        starts_at=starts_at,
        due_at=due_at or starts_at + timedelta(seconds=seconds),
        created_at=now,
    )


def schedule_acknowledge(incident: Incident, policy: SeverityPolicy, now: datetime) -> None:
    start, kind = incident.detected_at, DeadlineKind.ACKNOWLEDGE
    if policy.ack_next_business_day:
        due_at = next_business_day_end(start)
        _create(incident, policy, kind, starts_at=start, seconds=None, now=now, due_at=due_at)
    elif policy.ack_target_seconds:
        seconds = policy.ack_target_seconds
        _create(incident, policy, kind, starts_at=start, seconds=seconds, now=now)


def schedule_resolve(
    incident: Incident, policy: SeverityPolicy, now: datetime, *, starts_at: datetime | None = None
) -> None:
    """Resolve target from detection (or from ``starts_at``, e.g. a reopening)."""
    if seconds := policy.resolve_target_seconds:
        start = starts_at or incident.detected_at
        _create(incident, policy, DeadlineKind.RESOLVE, starts_at=start, seconds=seconds, now=now)


def schedule_update(
    incident: Incident, policy: SeverityPolicy, now: datetime, *, after: Deadline | None = None
) -> None:
    """The next status update is due one cadence after the last one (or now).

    ``after``: the reminder that just fired with no update posted (the
    sweep). The next one starts at the first cadence boundary after it that
    is still ahead, so after an outage of the engine the reminders it missed
    are skipped rather than all due at once.
    """
    seconds = policy.update_cadence_seconds
    if not seconds:
        return
    step = timedelta(seconds=seconds)
    starts_at = now
    if after is not None:
        starts_at = after.due_at
        while starts_at + step <= now:
            starts_at += step
    _create(incident, policy, DeadlineKind.UPDATE, starts_at=starts_at, seconds=seconds, now=now)


def schedule_all(incident: Incident, policy: SeverityPolicy, now: datetime) -> None:
    if incident.acknowledged_at is None:
        schedule_acknowledge(incident, policy, now)
    schedule_resolve(incident, policy, now)
    schedule_update(incident, policy, now)


def pending(incident: Incident, kinds: tuple[str, ...] | None = None):
    """The incident's own pending promises; those other apps made about their
    rows (a post-mortem's, ``subject`` set) are theirs to close."""
    rows = Deadline.objects.filter(incident=incident, subject="").pending()
    return rows.filter(kind__in=kinds) if kinds else rows


def schedule_escalation(
    incident: Incident,
    *,
    path: str,
    level: int,
    starts_at: datetime,
    due_at: datetime,
    now: datetime,
) -> Deadline:
    """One escalation step: ``path`` climbs to ``level`` at ``due_at`` without progress."""
    return Deadline.objects.create(
        incident=incident,
        kind=DeadlineKind.ESCALATION,
        severity=incident.severity,
        target_seconds=int((due_at - starts_at).total_seconds()),
        level=level,
        path=path,
        starts_at=starts_at,
        due_at=due_at,
        created_at=now,
    )


def meet(incident: Incident, kind: str, at: datetime) -> int:
    """Close the pending deadlines of ``kind``; a breach already recorded for
    one of them (it fired late) learns when the promise was finally kept."""
    rows = pending(incident, (kind,))
    SlaBreach.objects.filter(
        deadline__in=rows.filter(fired_at__isnull=False), met_at__isnull=True
    ).update(met_at=at)
    return rows.update(met_at=at)


def cancel(incident: Incident, kinds: tuple[str, ...] | None, at: datetime) -> int:
    # A row that already fired is done: it stays as it fired (and can still
    # be met later, which dates its breach).
    return pending(incident, kinds).filter(fired_at__isnull=True).update(cancelled_at=at)


def cancel_escalation(
    incident: Incident,
    path: str | None,
    at: datetime,
    *,
    keep: int | None = None,
    up_to_level: int | None = None,
) -> int:
    """Cancel escalation steps still to fire on ``path`` (None: both paths),
    except ``keep`` (the row the sweep is firing right now); with
    ``up_to_level`` only those of the levels already passed."""
    rows = pending(incident, (DeadlineKind.ESCALATION,)).filter(fired_at__isnull=True)
    if path:
        rows = rows.filter(path=path)
    if up_to_level is not None:
        rows = rows.filter(level__lte=up_to_level)
    if keep is not None:
        rows = rows.exclude(pk=keep)
    return rows.update(cancelled_at=at)


# --- other apps' promises ----------------------------------------------------------


def schedule_for(
    *,
    kind: str,
    due_at: datetime,
    now: datetime,
    subject: str,
    incident: Incident | None = None,
    severity: str = "",
    starts_at: datetime | None = None,
) -> Deadline:
    """A promise of another app about one of its rows (``subject``, e.g.
    "postmortem:7"), fired by the handler that app registers for ``kind``
    (``engine.sla.register``). ``incident`` when the promise is about one."""
    return Deadline.objects.create(
        incident=incident,
        subject=subject,
        kind=kind,
        severity=severity or (incident.severity if incident is not None else ""),
        starts_at=starts_at or now,
        due_at=due_at,
        created_at=now,
    )


def cancel_for(subject: str, at: datetime, *, kinds: tuple[str, ...] | None = None) -> int:
    """Cancel the pending promises about ``subject`` (of ``kinds``, or all)."""
    rows = Deadline.objects.pending().filter(subject=subject)
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    return rows.update(cancelled_at=at)


def meet_for(subject: str, at: datetime, *, kinds: tuple[str, ...] | None = None) -> int:
    """Mark the pending promises about ``subject`` met at ``at``."""
    rows = Deadline.objects.pending().filter(subject=subject)
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    return rows.update(met_at=at)
