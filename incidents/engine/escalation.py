"""Escalation paths: the guide's "Escalation Paths" run by the clock and by hand.

When an incident is declared, both policies (technical and business) are
copied onto it as ``IncidentEscalationStep`` rows, so editing a policy never
changes an escalation already running (Grafana OnCall's lesson, STYLE.md).
Each level above the current one gets an escalation ``Deadline``; the sweep
(``incidents.engine.sla``) calls ``fire`` when one falls due.

The guide's rule: an incident climbs when a level's deadline passes without
progress. Progress is "acknowledged" while at L1 and "identified" at later
levels; once there is progress the chain stops and nobody more is paged.

Everything here runs inside the caller's transaction with the incident row
locked (a service's ``_lock`` or the sweep's ``SELECT … FOR UPDATE``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from .. import oncall
from ..errors import IncidentError
from ..models import (
    EscalationLevel,
    EscalationPath,
    EventKind,
    Incident,
    IncidentEscalationStep,
    MessageKind,
    OncallInvolvement,
    Severity,
    SeverityPolicy,
    TimelineEvent,
)
from ..notify import outbox
from . import deadlines, paging

log = logging.getLogger(__name__)

TECHNICAL, BUSINESS = EscalationPath.TECHNICAL, EscalationPath.BUSINESS
PATHS = (TECHNICAL, BUSINESS)
LEVEL_FIELD = {TECHNICAL: "escalation_level", BUSINESS: "business_escalation_level"}
# Severities whose on-call person is paged at declaration (the guide's
# "On-Call: Required" and "Notified"); "Informed" hears it from the channels.
PAGING_INVOLVEMENT = (OncallInvolvement.PAGED, OncallInvolvement.NOTIFIED)
# Manual escalation of an incident that has no copied policy (declared before
# policies existed, or a manager deleted one): the guide's ladder.
FALLBACK_TOP = {TECHNICAL: {Severity.P0: 4}, BUSINESS: {}}
FALLBACK_DEFAULT_TOP = {TECHNICAL: 3, BUSINESS: 4}


# --- reading the copy -------------------------------------------------------------


def level_of(incident: Incident, path: str) -> int:
    return getattr(incident, LEVEL_FIELD[path])


def usable(step: IncidentEscalationStep, severity: str) -> bool:
    """Critical-only levels (the guide's L4) are for P0 incidents only."""
    return not step.critical_only or severity == Severity.P0


def steps(incident: Incident, path: str) -> list[IncidentEscalationStep]:
    """The incident's copied levels on ``path`` usable at its severity, by level."""
    rows = IncidentEscalationStep.objects.filter(incident=incident, path=path).select_related(
        "schedule", "user", "group"
    )
    return [s for s in rows.order_by("level") if usable(s, incident.severity)]


def _step(incident: Incident, path: str, level: int) -> IncidentEscalationStep | None:
    return next((s for s in steps(incident, path) if s.level == level), None)


def has_progress(incident: Incident, level: int) -> bool:
    """The guide's "progress": acknowledged while at L1, identified later."""
    if level <= 1:
        return incident.acknowledged_at is not None
    return incident.identified_at is not None


def _auto(incident: Incident, path: str) -> bool:
    """Does this severity escalate by the clock on ``path``? By the policy's
    ``auto_severities`` as copied at declaration, never the policy as edited
    since: a severity change re-plans a running escalation by its own copy."""
    copied = (
        IncidentEscalationStep.objects.filter(incident=incident, path=path)
        .values_list("auto_severities", flat=True)
        .first()
    )
    return copied is not None and incident.severity in (copied or [])


def top_level(incident: Incident, path: str) -> int:
    usable_steps = steps(incident, path)
    if usable_steps:
        return usable_steps[-1].level
    return FALLBACK_TOP[path].get(incident.severity, FALLBACK_DEFAULT_TOP[path])


# --- writing -----------------------------------------------------------------------


def copy_policies(incident: Incident, now: datetime) -> list[IncidentEscalationStep]:
    """Copy every level of both policies onto the incident (critical-only levels
    too: a later upgrade to P0 can use them), each with its policy's
    ``auto_severities``, which re-planning reads."""
    levels = EscalationLevel.objects.select_related("policy").order_by("policy__path", "level")
    return IncidentEscalationStep.objects.bulk_create(
        [
            IncidentEscalationStep(
                incident=incident,
                path=level.policy.path,
                level=level.level,
                name=level.name,
                starts_after_minutes=level.starts_after_minutes,
                critical_only=level.critical_only,
                auto_severities=list(level.policy.auto_severities or []),
                schedule_id=level.schedule_id,
                user_id=level.user_id,
                group_id=level.group_id,
            )
            for level in levels
        ]
    )


def _people(step: IncidentEscalationStep | None, now: datetime) -> list:
    if step is None:
        return []
    return oncall.people_for(schedule=step.schedule, user=step.user, group=step.group, at=now)


_event = TimelineEvent.record


def _pages_oncall(incident: Incident) -> bool:
    """The guide: P0 on-call is paged, P1 notified; P2 informed and P3 not at all."""
    involvement = (
        SeverityPolicy.objects.filter(severity=incident.severity)
        .values_list("oncall", flat=True)
        .first()
    )
    return involvement in PAGING_INVOLVEMENT and _auto(incident, TECHNICAL)


def _was_paged(incident: Incident, path: str, level: int) -> bool:
    return (
        TimelineEvent.objects.filter(
            incident=incident,
            kind__in=[EventKind.NOTIFICATION, EventKind.ESCALATED],
            detail__path=path,
            detail__level=level,
        )
        .exclude(detail__nobody_paged=True)
        .exists()
    )


def _first_reachable(
    incident: Incident, path: str, step: IncidentEscalationStep, now: datetime, *, mentioned: bool
) -> tuple[IncidentEscalationStep, list, list[dict], list[dict]]:
    """The first level from ``step`` up whose page reaches someone.

    1. Who is on call at the level, and which of them a page reaches.
    2. Nobody: note why, mark the level reached (with nobody notified) and
       go on to the next usable level of the path at once, not after its
       minutes: a page nobody receives must not hold the chain up.
    3. No level left: the last one, with nobody; the caller says so loudly.
       Each level is tried once, so this never loops.

    Returns (level, its people on call, the reached ones, the levels passed).
    """
    ladder = steps(incident, path)
    skipped: list[dict] = []
    while True:
        people = _people(step, now)
        reach = paging.reachable(incident, people, mentioned=mentioned)
        if reach:
            return step, people, reach, skipped
        skipped.append({"level": step.level, "name": step.name, "why": paging.why_nobody(people)})
        log.warning(
            "%s: %s at L%s %s.", incident.ref, paging.WHY[skipped[-1]["why"]], step.level, step.name
        )
        step.reached_at = step.reached_at or now
        step.notified = []
        step.save(update_fields=["reached_at", "notified"])
        above = next((s for s in ladder if s.level > step.level), None)
        if above is None:
            return step, [], [], skipped
        step = above


def _page(
    incident: Incident,
    path: str,
    level: int,
    now: datetime,
    *,
    actor,
    reason: str,
    manual: bool,
    first_page: bool,
    keep: int | None = None,
) -> TimelineEvent:
    """Reach ``level`` of ``path`` and page its people; if nobody there can
    be paged, the next level (and so on), in this transaction.

    1. Find the first level from ``level`` up that reaches someone.
    2. Move the path to it; cancel the deadlines of the levels passed.
    3. Write one event: a ``notification`` for a first page that stayed at
       its level ("Paging L1 …"), else ``escalated`` with the level before
       and after; a level passed over or nobody paged is said in its message
       and ``detail`` (``skipped``, ``paging_note``, ``nobody_paged``), which
       the header and the board read.
    4. Page the people (after commit); tell the channels of every climb, and
       of a first page that had to climb or reached nobody.
    """
    field = LEVEL_FIELD[path]
    before = getattr(incident, field)
    mentioned = outbox.slack_carries(incident, MessageKind.ESCALATION)
    step = _step(incident, path, level)
    if step is None:  # no copied policy: nobody is named for the level
        final, people, reach = None, [], []
        skipped = [{"level": level, "name": "", "why": paging.NOBODY_ON_CALL}]
    else:
        final, people, reach, skipped = _first_reachable(
            incident, path, step, now, mentioned=mentioned
        )
    reached = final.level if final else level
    name = final.name if final else ""
    names = [r["username"] for r in reach]
    if final is not None:
        final.reached_at = now
        final.notified = names
        final.save(update_fields=["reached_at", "notified"])
    if reached != before:
        setattr(incident, field, reached)
        incident.save(update_fields=[field])
    if skipped:
        deadlines.cancel_escalation(incident, path, now, keep=keep, up_to_level=reached)
    tells_channels = not first_page or bool(skipped)
    if not tells_channels:  # no channel message, so nobody is mentioned in Slack
        for person in reach:
            person["methods"] = [m for m in person["methods"] if m != "slack"]
    label = paging.level_label(path, reached, name)
    note = ""
    if skipped:
        note = paging.skip_note(path, skipped, paged_at=label if reach else None, names=names)
    detail = {"path": path, "level": reached, "notified": names, "paged": reach}
    if skipped:
        detail.update(skipped=skipped, paging_note=note, nobody_paged=not reach)
    if first_page and reached == before:
        kind, message = EventKind.NOTIFICATION, note or f"Paging {label}: {', '.join(names)}"
        before_after = {}
    else:
        kind = EventKind.ESCALATED
        message = "\n".join(part for part in (reason if not first_page else "", note) if part)
        before_after = {"before": {field: before}, "after": {field: reached}}
        detail = {**detail, "level_name": name, "manual": manual}
    event = _event(incident, kind, actor, at=now, message=message, detail=detail, **before_after)
    extra = {
        "path": path,
        "level": reached,
        "level_name": name,
        "paged": names,
        "reason": "\n".join(part for part in (reason, note) if part),
        "manual": manual,
    }
    if first_page:
        # The level was reached by declaration, not climbed to.
        extra["first_page"] = True
    outbox.page_people(
        incident=incident,
        event=event,
        users=people,
        message_kind=MessageKind.ESCALATION,
        extra=extra,
    )
    if tells_channels:
        outbox.notify_incident(
            incident=incident,
            event=event,
            message_kind=MessageKind.ESCALATION,
            extra={**extra, "mentions": outbox.slack_mentions(people)},
        )
    return event


def page_level(
    incident: Incident, step: IncidentEscalationStep, now: datetime, *, reason: str
) -> TimelineEvent:
    """Page the people of a level already reached (L1 at declaration) and
    write a ``notification`` event naming them; with nobody to page there,
    the next level is paged at once (``_page``)."""
    return _page(
        incident,
        step.path,
        step.level,
        now,
        actor=None,
        reason=reason,
        manual=False,
        first_page=True,
    )


def plan(incident: Incident, path: str, now: datetime) -> list:
    """Create the escalation deadlines of the levels above the current one.

    1. Nothing for a resolved incident, a business path not started, or a
       severity that does not escalate by the clock on this path.
    2. Nothing once there is progress at the current level (the chain stopped).
    3. One deadline per usable level above the current one, due its minute
       after the path's start: detection for the technical path, the moment
       business escalation started for the business path.
    """
    current = level_of(incident, path)
    if not incident.is_open or (path == BUSINESS and current == 0):
        return []
    if not _auto(incident, path) or has_progress(incident, current):
        return []
    ladder = steps(incident, path)
    if path == TECHNICAL:
        base = incident.detected_at
    else:
        first = next((s for s in ladder if s.reached_at is not None), None)
        base = first.reached_at if first else now
    return [
        deadlines.schedule_escalation(
            incident,
            path=path,
            level=step.level,
            starts_at=base,
            due_at=base + timedelta(minutes=step.starts_after_minutes),
            now=now,
        )
        for step in ladder
        if step.level > current
    ]


def start_technical(incident: Incident, now: datetime) -> TimelineEvent | None:
    """At declaration: L1 is reached; its people are paged when the severity's
    on-call is paged or notified; the later levels get their deadlines."""
    first = next(iter(steps(incident, TECHNICAL)), None)
    event = None
    if first is not None:
        first.reached_at = now
        first.save(update_fields=["reached_at"])
        if _pages_oncall(incident) and incident.acknowledged_at is None:
            event = page_level(incident, first, now, reason="Declared")
    plan(incident, TECHNICAL, now)
    return event


def climb(
    incident: Incident,
    path: str,
    level: int,
    now: datetime,
    *,
    actor,
    message: str,
    manual: bool,
    keep: int | None = None,
) -> TimelineEvent:
    """Move ``path`` to ``level``: record it, page the level's people (or
    the next level's, when nobody there can be paged) and tell the channels.
    The caller has checked that the climb is allowed."""
    return _page(
        incident,
        path,
        level,
        now,
        actor=actor,
        reason=message,
        manual=manual,
        first_page=False,
        keep=keep,
    )


def start_business(
    incident: Incident, now: datetime, *, actor=None, message: str = "", manual: bool = False
) -> TimelineEvent | None:
    """Start the business path at L1 (customer impact, or by hand) and plan
    its later levels. Does nothing if it already runs."""
    if level_of(incident, BUSINESS) > 0:
        return None
    first = next(iter(steps(incident, BUSINESS)), None)
    level = first.level if first else 1
    if not message:
        label = f"L{level} {first.name}" if first else f"L{level}"
        message = f"Customers are affected: business escalation started at {label}"
    event = climb(incident, BUSINESS, level, now, actor=actor, message=message, manual=manual)
    plan(incident, BUSINESS, now)
    return event


def escalate_by_hand(
    incident: Incident, path: str, now: datetime, *, actor, reason: str
) -> TimelineEvent:
    """One level up on ``path`` (the business path starts at L1), with a reason.
    Raises ``IncidentError`` (conflict) at the top level for the severity."""
    current = level_of(incident, path)
    top = top_level(incident, path)
    if current >= top:
        where = f"L{current}" if path == TECHNICAL else f"business L{current}"
        raise IncidentError(
            f"{incident.ref} is already at {where}, the top level for {incident.severity}.",
            conflict=True,
        )
    if path == BUSINESS and current == 0:
        return start_business(incident, now, actor=actor, message=reason, manual=True)
    above = [s.level for s in steps(incident, path) if s.level > current]
    level = above[0] if above else current + 1
    return climb(incident, path, level, now, actor=actor, message=reason, manual=True)


def _no_progress_message(current: int, step: IncidentEscalationStep) -> str:
    missing = "acknowledgement" if current <= 1 else "identification"
    return (
        f"No {missing} within {step.starts_after_minutes} min: "
        f"escalated to L{step.level} {step.name}"
    )


def fire(*, deadline, incident: Incident, now: datetime) -> TimelineEvent | None:
    """An escalation deadline fell due (the sweep holds the incident's lock).

    1. Nothing if the incident is resolved or the path is already at (or
       past) the level, e.g. after a manual escalation.
    2. Nothing if the level is not usable at the severity (critical-only).
    3. If there was progress at the current level, the chain stops: the
       path's other pending deadlines are cancelled and nobody is paged.
    4. Otherwise climb to the level, page its people, tell the channels.
    """
    path, target = deadline.path, deadline.level
    if path not in LEVEL_FIELD or not incident.is_open:
        return None
    current = level_of(incident, path)
    if current >= target or (path == BUSINESS and current == 0):
        return None
    step = _step(incident, path, target)
    if step is None:
        return None
    if has_progress(incident, current):
        stop(incident, path, now, keep=deadline.pk)
        return None
    return climb(
        incident,
        path,
        target,
        now,
        actor=None,
        message=_no_progress_message(current, step),
        manual=False,
        keep=deadline.pk,
    )


# --- stopping and re-planning ----------------------------------------------------------


def stop(incident: Incident, path: str | None, now: datetime, *, keep: int | None = None) -> int:
    """Cancel the pending escalation deadlines of ``path`` (None: both)."""
    return deadlines.cancel_escalation(incident, path, now, keep=keep)


def on_acknowledged(incident: Incident, now: datetime) -> None:
    """The guide: acknowledging at L1 is progress; later levels need identification."""
    if incident.escalation_level <= 1:
        stop(incident, TECHNICAL, now)


def on_identified(incident: Incident, now: datetime) -> None:
    """The cause is identified (or the incident resolved): both chains stop."""
    stop(incident, None, now)


def replan(incident: Incident, now: datetime) -> None:
    """The severity changed: cancel pending escalation deadlines and plan the
    levels above the current ones by the new severity (levels already passed
    are not fired again). An upgrade to a severity that pages on-call pages
    L1 now if nobody was paged at declaration."""
    stop(incident, None, now)
    if (
        incident.escalation_level <= 1
        and incident.acknowledged_at is None
        and _pages_oncall(incident)
        and not _was_paged(incident, TECHNICAL, 1)
    ):
        first = next(iter(steps(incident, TECHNICAL)), None)
        if first is not None:
            page_level(incident, first, now, reason="Severity raised")
    for path in PATHS:
        plan(incident, path, now)


def on_customer_impact(incident: Incident, now: datetime, *, impacting: bool) -> None:
    """Marked customer-impacting: business escalation starts; unmarked: its
    pending deadlines stop (what was paged stays on the timeline)."""
    if impacting:
        start_business(incident, now)
    else:
        stop(incident, BUSINESS, now)
