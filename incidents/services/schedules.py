"""On-call schedules, their rotations (and members) and overrides: every
change is one function here.

Managers edit schedules and rotations (the admin, the API); overrides are
added by managers for anyone and by responders for themselves (the dashboard,
the API, the admin). Each function is keyword-only and atomic, checks its
input (``DomainError`` naming the field; ``PermissionDenied`` for who may put
whom on call), writes, and writes one audit row in the same transaction.
Nothing is started after commit: who is on call is computed when it is read
(``incidents.oncall``), so there is no cache to refresh.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.validators import slug_re
from django.db import transaction
from django.utils.text import slugify

from .. import access, audit
from ..errors import DomainError
from ..models import (
    EscalationLevel,
    IncidentEscalationStep,
    Override,
    Rotation,
    RotationInterval,
    RotationMember,
    Schedule,
    Status,
)
from ..people import person_of
from ..timebounds import check_typed_time
from .checks import check_choice, check_field_text, check_whole_number, others
from .edits import UNSET, Rows, given

User = get_user_model()

SLUG_MAX = Schedule._meta.get_field("slug").max_length
PRIORITY_MAX = 32_767  # PositiveSmallIntegerField
# A year: longer shifts are a typo, and hand-off arithmetic stays far from
# what ``datetime`` can hold.
SHIFT_HOURS_MAX = 24 * 366
MEMBERS_MAX = 1000

# What people edit of each (the entry points' forms and serializers show
# these), and what the audit log keeps (never a schedule's feed token).
SCHEDULE_FIELDS = ("name", "slug", "description", "time_zone")
ROTATION_FIELDS = ("name", "priority", "interval", "shift_hours", "starts_at", "ends_at")
OVERRIDE_FIELDS = ("user", "starts_at", "ends_at", "reason")
SCHEDULES = Rows(Schedule, SCHEDULE_FIELDS)
ROTATIONS = Rows(Rotation, ("schedule", *ROTATION_FIELDS))
OVERRIDES = Rows(Override, ("schedule", *OVERRIDE_FIELDS))


# --- checks ------------------------------------------------------------------------


@functools.cache
def iana_time_zones() -> frozenset[str]:
    # Scanning the tz database costs a few ms; its content does not change at run time.
    return frozenset(zoneinfo.available_timezones())


def _time_zone(name) -> str:
    if not isinstance(name, str) or name not in iana_time_zones():
        raise DomainError(
            f"{name!r} is not an IANA time zone name such as 'Europe/Berlin'.", field="time_zone"
        )
    return name


def _slug(slug, name: str) -> str:
    """The given slug, or one made from the name when none is given."""
    if slug in (None, ""):
        slug = slugify(name)[:SLUG_MAX]
        if not slug:
            raise DomainError("slug cannot be made from this name; give one.", field="slug")
        return slug
    if not isinstance(slug, str) or len(slug) > SLUG_MAX or not slug_re.match(slug):
        raise DomainError(
            f"slug must be at most {SLUG_MAX} letters, digits, hyphens or underscores.",
            field="slug",
        )
    return slug


def _schedule_state(state: dict, schedule: Schedule | None) -> dict:
    """A whole schedule as it would be stored, checked; ``schedule`` is the
    row being changed (None for a new one)."""
    name = check_field_text(Schedule, "name", state["name"])
    slug = _slug(state["slug"], name)
    schedules = others(Schedule, schedule)
    if schedules.filter(name=name).exists():
        raise DomainError(f"A schedule is already called {name!r}.", field="name")
    if schedules.filter(slug=slug).exists():
        raise DomainError(f"slug {slug!r} is already used.", field="slug")
    return {
        "name": name,
        "slug": slug,
        "description": check_field_text(
            Schedule, "description", state["description"], required=False
        ),
        "time_zone": _time_zone(state["time_zone"]),
    }


def _window(starts_at, ends_at, *, open_ended: bool = False) -> tuple[datetime, datetime | None]:
    """Each time one a person may type (``timebounds``: no page can fail to
    show it in any zone), in UTC; the end after the start. ``open_ended``: no
    end is allowed (a rotation that runs on)."""
    starts_at = check_typed_time(starts_at, field="starts_at")
    if ends_at is None and open_ended:
        return starts_at, None
    ends_at = check_typed_time(ends_at, field="ends_at")
    if ends_at <= starts_at:
        raise DomainError("ends_at must be after starts_at.", field="ends_at")
    return starts_at, ends_at


def _schedule(value) -> Schedule:
    if not isinstance(value, Schedule) or value.pk is None:
        raise DomainError("Choose a schedule.", field="schedule")
    return value


def _rotation_state(state: dict) -> dict:
    """A whole rotation as it would be stored, checked."""
    interval = check_choice(state["interval"], RotationInterval, "interval", error=DomainError)
    shift_hours = state["shift_hours"]
    if shift_hours is not None:
        shift_hours = check_whole_number(shift_hours, "shift_hours", low=1, high=SHIFT_HOURS_MAX)
    if interval == RotationInterval.CUSTOM and shift_hours is None:
        raise DomainError(
            "A custom rotation needs a shift length in hours (shift_hours, 1 or more).",
            field="shift_hours",
        )
    starts_at, ends_at = _window(state["starts_at"], state["ends_at"], open_ended=True)
    return {
        "schedule": _schedule(state["schedule"]),
        "name": check_field_text(Rotation, "name", state["name"]),
        "priority": check_whole_number(state["priority"], "priority", low=0, high=PRIORITY_MAX),
        "interval": interval,
        "shift_hours": shift_hours,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }


def _members(members) -> list:
    """People who take turns, in this order; each must be able to take a shift."""
    try:
        people = list(members)
    except TypeError:
        people = [members]
    if len(people) > MEMBERS_MAX:
        raise DomainError(f"A rotation has at most {MEMBERS_MAX} members.", field="members")
    for person in people:
        if not isinstance(person, User) or person.pk is None:
            raise DomainError("members must be a list of people, in turn order.", field="members")
        if not person.is_active:
            raise DomainError(
                f"{person.get_username()} is deactivated and cannot take shifts.", field="members"
            )
    return people


def _take_turns(rotation: Rotation, people: list) -> None:
    RotationMember.objects.bulk_create(
        RotationMember(rotation=rotation, user=person, position=position)
        for position, person in enumerate(people)
    )


def _may_remove(actor, override: Override, verb: str) -> None:
    """Managers any cover; responders those covering them or added by them."""
    if not access.can_remove_override(actor, override):
        raise PermissionDenied(
            f"Responders can only {verb} overrides that cover them or that they added."
        )


def _usernames(rotation: Rotation) -> list[str]:
    rows = rotation.members.select_related("user").order_by("position", "id")
    return [member.user.get_username() for member in rows]


def _covering(*, schedule, user, starts_at, ends_at, reason, actor) -> dict:
    """The rules for any override, new or edited.

    1. ``actor`` may put ``user`` on call (managers anyone, responders themselves)
    2. on this schedule (managers any, responders only where a rotation has them);
    3. ``user`` can take a shift (an active person);
    4. each time is one a person may type, and it ends after it starts.
    """
    schedule = _schedule(schedule)
    if not isinstance(user, User) or user.pk is None:
        raise DomainError("Choose who covers.", field="user")
    if not access.can_cover(actor, user):
        raise PermissionDenied("Responders can only add overrides that put themselves on call.")
    if not access.can_take_shifts(actor, schedule):
        raise PermissionDenied(
            f"You are in no rotation of {schedule.name}; responders take shifts only on "
            "their own schedules (ask a manager to cover this one)."
        )
    if not user.is_active:
        raise DomainError(
            f"{user.get_username()} is deactivated and cannot take shifts.", field="user"
        )
    starts_at, ends_at = _window(starts_at, ends_at)
    reason = check_field_text(Override, "reason", reason, required=False)
    return {
        "schedule": schedule,
        "user": user,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "reason": reason,
    }


# --- schedules ---------------------------------------------------------------------


@transaction.atomic
def schedule_create(
    *, actor, name: str, slug: str | None = None, description: str = "", time_zone: str = "UTC"
) -> Schedule:
    """A new schedule; the slug is made from the name unless given."""
    state = _schedule_state(
        {"name": name, "slug": slug, "description": description, "time_zone": time_zone}, None
    )
    return SCHEDULES.create(actor=actor, action="schedule_create", state=state)


@transaction.atomic
def schedule_update(
    *,
    actor,
    schedule: Schedule,
    name: str = UNSET,
    slug: str | None = UNSET,
    description: str = UNSET,
    time_zone: str = UNSET,
) -> Schedule:
    """Change the given fields (an empty slug is made from the name again).
    A new time zone moves the daily and weekly hand-offs to its clock."""
    SCHEDULES.update(
        actor=actor,
        action="schedule_update",
        row=schedule,
        changes=given(name=name, slug=slug, description=description, time_zone=time_zone),
        check=lambda state: _schedule_state(state, schedule),
    )
    return schedule


@transaction.atomic
def schedule_delete(*, actor, schedule: Schedule) -> None:
    """Delete a schedule with its rotations and overrides. Refused (409) while
    an escalation level pages it (the level would page nobody: change the
    level first) or while an open incident's escalation, copied when it was
    declared, still pages it."""
    levels = (
        EscalationLevel.objects.filter(schedule=schedule)
        .select_related("policy")
        .order_by("policy__path", "level")
    )
    if named := [f"{level.policy.name} L{level.level}" for level in levels]:
        raise DomainError(
            f"{schedule.name} is used by {', '.join(named)}; change those levels first.",
            conflict=True,
        )
    running = sorted(
        set(
            IncidentEscalationStep.objects.filter(schedule=schedule)
            .exclude(incident__status=Status.RESOLVED)
            .values_list("incident__ref", flat=True)
        )
    )
    if running:
        raise DomainError(
            f"{schedule.name} is paged by the escalation of open incident(s) "
            f"{', '.join(running[:5])}; delete it once they are resolved.",
            conflict=True,
        )
    SCHEDULES.delete(actor=actor, action="schedule_delete", row=schedule)


# --- rotations -----------------------------------------------------------------------


@transaction.atomic
def rotation_create(
    *,
    actor,
    schedule: Schedule,
    name: str,
    starts_at: datetime,
    interval: str = RotationInterval.WEEKLY,
    shift_hours: int | None = None,
    priority: int = 0,
    ends_at: datetime | None = None,
    members: Iterable = (),
) -> Rotation:
    """A layer of ``schedule``: ``members`` take turns in this order, handing
    off every ``interval`` from ``starts_at`` (custom: every ``shift_hours``)."""
    state = _rotation_state(
        {
            "schedule": schedule,
            "name": name,
            "priority": priority,
            "interval": interval,
            "shift_hours": shift_hours,
            "starts_at": starts_at,
            "ends_at": ends_at,
        }
    )
    people = _members(members)
    rotation = ROTATIONS.create(
        actor=actor,
        action="rotation_create",
        state=state,
        extra={"members": [person.get_username() for person in people]},
    )
    _take_turns(rotation, people)
    return rotation


@transaction.atomic
def rotation_update(
    *,
    actor,
    rotation: Rotation,
    schedule: Schedule = UNSET,
    name: str = UNSET,
    priority: int = UNSET,
    interval: str = UNSET,
    shift_hours: int | None = UNSET,
    starts_at: datetime = UNSET,
    ends_at: datetime | None = UNSET,
) -> Rotation:
    """Change the given fields; the members change with ``rotation_set_members``."""
    ROTATIONS.update(
        actor=actor,
        action="rotation_update",
        row=rotation,
        changes=given(
            schedule=schedule,
            name=name,
            priority=priority,
            interval=interval,
            shift_hours=shift_hours,
            starts_at=starts_at,
            ends_at=ends_at,
        ),
        check=_rotation_state,
    )
    return rotation


@transaction.atomic
def rotation_set_members(*, actor, rotation: Rotation, members: Iterable) -> Rotation:
    """``members`` take turns in this order from now on (positions 0, 1, …)."""
    people = _members(members)
    current = list(rotation.members.order_by("position", "id").values_list("user_id", flat=True))
    if current == [person.pk for person in people]:
        return rotation
    before = {"members": _usernames(rotation)}
    rotation.members.all().delete()
    _take_turns(rotation, people)
    audit.record(
        actor=actor,
        action="rotation_set_members",
        obj=rotation,
        before=before,
        after={"members": [person.get_username() for person in people]},
    )
    return rotation


@transaction.atomic
def rotation_delete(*, actor, rotation: Rotation) -> None:
    """Remove a layer; the schedule's other rotations decide its shifts."""
    ROTATIONS.delete(
        actor=actor, action="rotation_delete", row=rotation, extra={"members": _usernames(rotation)}
    )


# --- overrides -------------------------------------------------------------------------


@transaction.atomic
def override_add(
    *,
    actor,
    schedule: Schedule,
    user,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
) -> Override:
    """``user`` covers ``[starts_at, ends_at)`` of ``schedule``; it beats every
    rotation there. Managers put anyone on call on any schedule, responders
    only themselves and only on schedules whose rotations include them."""
    state = _covering(
        schedule=schedule,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        actor=actor,
    )
    state["created_by"] = person_of(actor)
    return OVERRIDES.create(actor=actor, action="override_add", state=state)


@transaction.atomic
def override_change(
    *,
    actor,
    override: Override,
    schedule: Schedule = UNSET,
    user=UNSET,
    starts_at: datetime = UNSET,
    ends_at: datetime = UNSET,
    reason: str = UNSET,
) -> Override:
    """Change the given fields of a cover under the rules of ``override_add``
    (checked on the cover as it would be); the actor must also be allowed to
    remove the cover as it was."""
    _may_remove(actor, override, "change")
    OVERRIDES.update(
        actor=actor,
        action="override_change",
        row=override,
        changes=given(
            schedule=schedule, user=user, starts_at=starts_at, ends_at=ends_at, reason=reason
        ),
        check=lambda state: _covering(**state, actor=actor),
    )
    return override


@transaction.atomic
def override_remove(*, actor, override: Override) -> None:
    """Cancel a cover; the rotations decide that window again."""
    _may_remove(actor, override, "remove")
    OVERRIDES.delete(actor=actor, action="override_remove", row=override)
