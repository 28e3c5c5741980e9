"""Who is on call: rotations, priority layers and overrides turned into shifts.

Reads only (STYLE.md: selectors); schedules, rotations and overrides change
through ``incidents.services.schedules``. Every public function fetches its
rows in a constant number of queries and computes the rest in Python, walking
hand-offs arithmetically from the window, never from a rotation's first
hand-off.

The rules, as PagerDuty and Grafana OnCall users expect them:

- ``Rotation.starts_at`` is the first hand-off; members take turns in
  ``position`` order. Daily and weekly hand-offs keep their wall-clock time in
  ``Schedule.time_zone`` across daylight-saving changes; custom rotations hand
  off every ``shift_hours`` exactly. A rotation covers nothing before
  ``starts_at``, after ``ends_at``, or when it has no members.
- Where several rotations have someone, the highest ``priority`` wins (ties:
  the lowest id). An override beats every rotation; where overrides overlap,
  the latest created wins.
- The result is the final layer: adjacent pieces of the same person from the
  same source (and rotation) are merged into one shift.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import models
from django.db.models import Prefetch

from .models import Override, Rotation, RotationInterval, RotationMember, Schedule

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser as User
    from django.contrib.auth.models import Group

log = logging.getLogger(__name__)


class ShiftSource(models.TextChoices):
    ROTATION = "rotation", "Rotation"
    OVERRIDE = "override", "Override"


ROTATION = ShiftSource.ROTATION
OVERRIDE = ShiftSource.OVERRIDE

# who_is_on_call reports the whole merged shift around a moment; a shift
# longer than this on either side (a one-person rotation without end) is
# reported clipped to it. Also the widest window of the shifts API.
LOOKAROUND = timedelta(days=93)
# The first look around a moment; widened (x4) only while the shift found
# touches the edge, so the common case computes two days.
FIRST_LOOK = timedelta(days=2)

_STEPS = {RotationInterval.DAILY: timedelta(days=1), RotationInterval.WEEKLY: timedelta(days=7)}


@dataclass(frozen=True)
class Shift:
    """Someone on call for a schedule over ``[starts_at, ends_at)``."""

    user: User
    starts_at: datetime
    ends_at: datetime
    source: str  # ROTATION or OVERRIDE
    rotation_id: int | None


class _Piece(NamedTuple):
    starts_at: datetime
    ends_at: datetime
    user: User
    source: str
    rotation_id: int | None


def zone_of(schedule: Schedule) -> ZoneInfo:
    """The schedule's time zone (UTC when the stored name is unknown)."""
    return _zone(schedule.time_zone)


@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # Rows written around the validation (a raw SQL update) must not
        # take the board down; UTC hand-offs are the least surprising fallback.
        log.warning("Schedule time zone %r is unknown; using UTC.", name)
        return ZoneInfo("UTC")


def _require_aware(**moments: datetime) -> None:
    for name, value in moments.items():
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware (got {value.isoformat()}).")


class _RotationPlan:
    """One rotation's hand-offs as arithmetic: hand-off ``n`` in O(1)."""

    def __init__(self, rotation: Rotation, users: list[User], zone: ZoneInfo):
        self.id = rotation.pk
        self.priority = rotation.priority
        self.starts_at = rotation.starts_at
        self.ends_at = rotation.ends_at
        self.users = users
        self.zone = zone
        self.period: timedelta | None = None
        self.step: timedelta | None = None
        if rotation.interval in _STEPS:
            self.step = _STEPS[rotation.interval]
            # Wall-clock start; arithmetic on it keeps 09:00 at 09:00 across DST.
            self.local_start = rotation.starts_at.astimezone(zone).replace(tzinfo=None)
        else:
            self.period = timedelta(hours=rotation.shift_hours or 0)
        # A custom rotation saved without shift_hours (validation bypassed) covers nothing.
        self.covers_anything = bool(users) and bool(self.step or self.period)

    def handoff(self, n: int) -> datetime:
        """The ``n``-th hand-off (0 is ``starts_at`` itself)."""
        if n <= 0:
            return self.starts_at
        if self.period is not None:
            return self.starts_at + n * self.period
        # A local time in a DST gap (02:30 on spring-forward day) resolves with
        # fold=0 to the pre-transition offset, i.e. an hour later on the clock.
        local = self.local_start + n * self.step
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def index_at(self, moment: datetime) -> int:
        """The ``n`` with ``handoff(n) <= moment < handoff(n + 1)`` (``moment >= starts_at``).

        1. Custom: exact division of the elapsed time by the shift length.
        2. Daily/weekly: divide the elapsed *wall-clock* time by the step; an
           offset change moves a hand-off by hours, never a whole step, so
           2a. step back while the estimate's hand-off is after ``moment``,
           2b. step forward while the next hand-off is not after it.
        """
        if self.period is not None:
            return (moment - self.starts_at) // self.period
        local = moment.astimezone(self.zone).replace(tzinfo=None)
        n = max((local - self.local_start) // self.step, 0)
        while n > 0 and self.handoff(n) > moment:
            n -= 1
        while self.handoff(n + 1) <= moment:
            n += 1
        return n

    def pieces(self, start: datetime, end: datetime) -> Iterator[_Piece]:
        """Shifts of this rotation inside ``[start, end)``, clipped to it."""
        low = max(start, self.starts_at)
        high = min(end, self.ends_at) if self.ends_at else end
        if not self.covers_anything or low >= high:
            return
        n = self.index_at(low)
        cursor = low
        while cursor < high:
            finish = min(self.handoff(n + 1), high)
            # ``finish <= cursor`` only for a zone that skips a whole day
            # (Samoa, 2011): that hand-off has no time of its own.
            if finish > cursor:
                yield _Piece(cursor, finish, self.users[n % len(self.users)], ROTATION, self.id)
                cursor = finish
            n += 1


def _final_layer(layers: list[list[_Piece]], start: datetime, end: datetime) -> list[Shift]:
    """Resolve layers (given highest precedence first) into one timeline.

    1. Cut ``[start, end)`` at every piece boundary into elementary intervals.
    2. For each interval take the first layer with a piece covering it; each
       layer is sorted and disjoint, so a pointer per layer only moves forward.
    3. Merge neighbours with the same person, source and rotation.
    """
    points = sorted({start, end, *(t for layer in layers for p in layer for t in p[:2])})
    cursors = [0] * len(layers)
    merged: list[_Piece] = []
    for low, high in pairwise(points):
        winner = None
        for i, layer in enumerate(layers):
            j = cursors[i]
            while j < len(layer) and layer[j].ends_at <= low:
                j += 1
            cursors[i] = j
            if j < len(layer) and layer[j].starts_at <= low:
                winner = layer[j]
                break
        if winner is None:
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.ends_at == low
            and last.user.pk == winner.user.pk
            and last.source == winner.source
            and last.rotation_id == winner.rotation_id
        ):
            merged[-1] = last._replace(ends_at=high)
        else:
            merged.append(_Piece(low, high, winner.user, winner.source, winner.rotation_id))
    return [Shift(p.user, p.starts_at, p.ends_at, p.source, p.rotation_id) for p in merged]


class _Plan:
    """A schedule's rotations and the overrides fetched for a window."""

    def __init__(self, rotations: list[_RotationPlan], overrides: list[Override]):
        self.rotations = sorted(rotations, key=lambda r: (-r.priority, r.id))
        # Latest created first: ids grow with creation.
        self.overrides = sorted(overrides, key=lambda o: -o.pk)

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        layers = [
            [_Piece(max(o.starts_at, start), min(o.ends_at, end), o.user, OVERRIDE, None)]
            for o in self.overrides
            if o.starts_at < end and o.ends_at > start
        ]
        layers += [list(rotation.pieces(start, end)) for rotation in self.rotations]
        return _final_layer(layers, start, end)

    def at(self, moment: datetime) -> Shift | None:
        """The merged shift around ``moment``, looking wider only while needed."""
        reach = FIRST_LOOK
        while True:
            low, high = moment - reach, moment + reach
            found = next(
                (s for s in self.shifts(low, high) if s.starts_at <= moment < s.ends_at), None
            )
            if found is None or reach >= LOOKAROUND:
                return found
            if low < found.starts_at and found.ends_at < high:
                return found
            reach = min(reach * 4, LOOKAROUND)


def _plans(schedules: Sequence[Schedule], start: datetime, end: datetime) -> dict[int, _Plan]:
    """Plans for ``schedules`` with overrides touching ``[start, end)``: three queries
    (rotations, their members with users, overrides with users) whatever the count."""
    ids = [schedule.pk for schedule in schedules]
    rotations = Rotation.objects.filter(schedule_id__in=ids).prefetch_related(
        Prefetch(
            "members",
            queryset=RotationMember.objects.select_related("user").order_by("position", "id"),
        )
    )
    overrides = Override.objects.filter(
        schedule_id__in=ids, starts_at__lt=end, ends_at__gt=start
    ).select_related("user")
    zones = {schedule.pk: _zone(schedule.time_zone) for schedule in schedules}
    by_schedule: dict[int, tuple[list[_RotationPlan], list[Override]]] = {i: ([], []) for i in ids}
    for rotation in rotations:
        users = [member.user for member in rotation.members.all()]
        plan = _RotationPlan(rotation, users, zones[rotation.schedule_id])
        by_schedule[rotation.schedule_id][0].append(plan)
    for override in overrides:
        by_schedule[override.schedule_id][1].append(override)
    return {i: _Plan(*parts) for i, parts in by_schedule.items()}


# --- public -----------------------------------------------------------------------


def who_is_on_call(schedule: Schedule, at: datetime) -> Shift | None:
    """The shift covering ``at`` (whole, not clipped to ``at``), or None. 3 queries."""
    _require_aware(at=at)
    return _plans([schedule], at - LOOKAROUND, at + LOOKAROUND)[schedule.pk].at(at)


def shifts(
    schedule: Schedule, start: datetime, end: datetime, *, user: User | None = None
) -> list[Shift]:
    """The final layer over ``[start, end)``, shifts clipped to it, sorted by
    start; only ``user``'s shifts when given. 3 queries."""
    _require_aware(start=start, end=end)
    if end <= start:
        return []
    result = _plans([schedule], start, end)[schedule.pk].shifts(start, end)
    if user is not None:
        result = [s for s in result if s.user.pk == user.pk]
    return result


def oncall_by_schedule(schedules: Sequence[Schedule], at: datetime) -> dict[int, Shift | None]:
    """``{schedule id: shift covering at}`` for many schedules in 3 queries."""
    _require_aware(at=at)
    plans = _plans(schedules, at - LOOKAROUND, at + LOOKAROUND)
    return {schedule.pk: plans[schedule.pk].at(at) for schedule in schedules}


def shifts_by_schedule(
    schedules: Sequence[Schedule], start: datetime, end: datetime
) -> dict[int, list[Shift]]:
    """``{schedule id: its final layer over [start, end)}`` in 3 queries."""
    _require_aware(start=start, end=end)
    plans = _plans(schedules, start, end)
    return {schedule.pk: plans[schedule.pk].shifts(start, end) for schedule in schedules}


def schedules_oncall(at: datetime) -> list[tuple[Schedule, Shift | None]]:
    """Every schedule (by name) with who is on call at ``at``. 4 queries."""
    schedules = list(Schedule.objects.all())
    oncall = oncall_by_schedule(schedules, at)
    return [(schedule, oncall[schedule.pk]) for schedule in schedules]


def people_for(
    *,
    schedule: Schedule | None = None,
    user: User | None = None,
    group: Group | None = None,
    at: datetime,
) -> list[User]:
    """Whom an escalation level pages: the schedule's on-call person, then the
    user, then the group's members (by username); active people only, each once."""
    candidates: list[User] = []
    if schedule is not None and (shift := who_is_on_call(schedule, at)) is not None:
        candidates.append(shift.user)
    if user is not None:
        candidates.append(user)
    if group is not None:
        candidates.extend(group.user_set.filter(is_active=True).order_by("username", "pk"))
    seen: set[int] = set()
    people = []
    for person in candidates:
        if person.is_active and person.pk not in seen:
            seen.add(person.pk)
            people.append(person)
    return people
