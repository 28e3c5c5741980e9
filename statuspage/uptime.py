"""90-day uptime per component, per day, from the status history
(``ComponentStatusChange``), for the bars of the public page.

How a moment counts (time-weighted, like Statuspage's own calculation):

==================================  =====================================
status                              counts as downtime
==================================  =====================================
``operational``                     0
``degraded_performance``            0 (slow is up)
``partial_outage``                  0.3 of the time (``PARTIAL_WEIGHT``)
``major_outage``                    all of the time
``under_maintenance``               all of the time only when the
                                    maintenance that set it has
                                    ``counts_as_downtime``; otherwise 0
==================================  =====================================

Unlike other status pages, maintenance is not always free: an operator who
promised "maintenance counts against our SLA" says so per maintenance, and a
component put under maintenance by hand (no maintenance row) never counts.

A day's uptime is ``1 - downtime / observed time``, where the observed time
runs from the day's start (midnight in ``STATUS_PAGE_TIME_ZONE``) or the
component's start (``start_date``, else ``created_at``), whichever is later,
to the day's end or now, whichever is earlier. Days before the component
existed have no data. The 90-day figure is the same ratio over the whole
window.

Everything is read in three queries, whatever the number of components:
the status each component had when the window opened, the changes inside
the window, and the public incidents that overlap it.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery

from .models import ComponentStatus, ComponentStatusChange, PublicIncident

DAYS = 90
PARTIAL_WEIGHT = 0.3
WEIGHTS = {
    ComponentStatus.OPERATIONAL: 0.0,
    ComponentStatus.DEGRADED_PERFORMANCE: 0.0,
    ComponentStatus.PARTIAL_OUTAGE: PARTIAL_WEIGHT,
    ComponentStatus.MAJOR_OUTAGE: 1.0,
}
# The colour of a day is the worst thing that happened in it.
LEVELS = ["operational", "maintenance", "degraded", "partial", "major"]
LEVEL_OF = {
    ComponentStatus.OPERATIONAL: "operational",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "degraded",
    ComponentStatus.PARTIAL_OUTAGE: "partial",
    ComponentStatus.MAJOR_OUTAGE: "major",
}


@dataclass
class Day:
    day: date
    observed: float = 0.0  # seconds
    down: float = 0.0  # weighted seconds
    level: str = "none"  # "none" = no data
    incidents: list[PublicIncident] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.observed > 0

    @property
    def uptime(self) -> float | None:
        """Percent, or None without data."""
        if not self.observed:
            return None
        return 100.0 * (1.0 - self.down / self.observed)


@dataclass
class ComponentUptime:
    days: list[Day]

    @property
    def uptime(self) -> float | None:
        observed = sum(d.observed for d in self.days)
        if not observed:
            return None
        return 100.0 * (1.0 - sum(d.down for d in self.days) / observed)


def page_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.STATUS_PAGE_TIME_ZONE)


def percent(value: float | None) -> str:
    """``99.98%``: rounded down, so a day with any downtime never reads 100%."""
    if value is None:
        return "no data"
    if value >= 100.0:
        return "100%"
    floored = int(value * 100) / 100
    return f"{floored:.2f}%"


def day_bounds(first: date, days: int, tz) -> list[datetime]:
    """The ``days + 1`` midnights (in ``tz``) around ``days`` days from
    ``first``, so day ``i`` is ``[bounds[i], bounds[i + 1])``; a day with a
    daylight-saving change is 23 or 25 hours long. In UTC: Python subtracts
    two times of the same zone by their wall clocks, which would make every
    day 24 hours."""
    return [
        datetime.combine(first + timedelta(days=i), time(), tzinfo=tz).astimezone(UTC)
        for i in range(days + 1)
    ]


def _start_of(component, tz) -> datetime:
    if component.start_date:
        return datetime.combine(component.start_date, time(), tzinfo=tz).astimezone(UTC)
    return component.created_at


def _weight(status: str, counts_as_downtime: bool) -> float:
    if status == ComponentStatus.UNDER_MAINTENANCE:
        return 1.0 if counts_as_downtime else 0.0
    return WEIGHTS.get(status, 0.0)


def _spans(component, opening, changes, start: datetime, end: datetime):
    """(from, to, status, counts_as_downtime) covering [start, end):

    1. the status at ``start``: the last change before it; without one, the
       first change's old status; without any change, the current status;
    2. then each change in the window, in order.
    """
    if opening is not None:
        status, counts = opening
    elif changes:
        status, counts = changes[0].old_status or ComponentStatus.OPERATIONAL, False
    else:
        status, counts = component.status, False
    at = start
    for change in changes:
        moment = max(change.at, start)
        if moment > at:
            yield at, moment, status, counts
            at = moment
        status = change.new_status
        counts = bool(change.maintenance and change.maintenance.counts_as_downtime)
    if end > at:
        yield at, end, status, counts


def _fill(days: list[Day], bounds: list[datetime], spans) -> None:
    """Add each span's observed and weighted down seconds to the days it
    covers (a span may cross several midnights)."""
    index = 0
    for begin, finish, status, counts in spans:
        while index < len(days) and bounds[index + 1] <= begin:
            index += 1
        i = index
        while i < len(days) and bounds[i] < finish:
            lo, hi = max(begin, bounds[i]), min(finish, bounds[i + 1])
            if hi > lo:
                seconds = (hi - lo).total_seconds()
                day = days[i]
                day.observed += seconds
                day.down += seconds * _weight(status, counts)
                level = LEVEL_OF.get(status, "operational")
                if day.level == "none" or LEVELS.index(level) > LEVELS.index(day.level):
                    day.level = level
            i += 1


def _openings(component_ids, start: datetime) -> dict[int, tuple[str, bool]]:
    """Each component's status at ``start`` (one query): its last change before."""
    before = ComponentStatusChange.objects.filter(
        component_id=OuterRef("component_id"), at__lt=start
    ).order_by("-at", "-id")
    rows = (
        ComponentStatusChange.objects.filter(component_id__in=component_ids, at__lt=start)
        .filter(pk=Subquery(before.values("pk")[:1]))
        .values_list("component_id", "new_status", "maintenance__counts_as_downtime")
    )
    return {cid: (status, bool(counts)) for cid, status, counts in rows}


def uptime(components, *, now: datetime, days: int = DAYS, tz=None) -> dict[int, ComponentUptime]:
    """Per component id, the last ``days`` days (today last) of uptime.

    1. The window is ``days`` whole local days ending with today; its
       midnights are computed once.
    2. Three queries read the opening statuses, the changes in the window
       (with their maintenance) and the incidents that overlap the window.
    3. Each component's history becomes spans of one status, clipped to
       the time it has existed and to now, and spread over the days.
    4. Each day lists the public incidents that affected the component on it.
    """
    tz = tz or page_zone()
    components = list(components)
    now = now.astimezone(UTC)
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    bounds = day_bounds(first, days, tz)
    start, stop = bounds[0], bounds[-1]
    ids = [c.pk for c in components]
    openings = _openings(ids, start) if ids else {}
    changes: dict[int, list] = defaultdict(list)
    if ids:
        for change in (
            ComponentStatusChange.objects.filter(component_id__in=ids, at__gte=start, at__lte=now)
            .select_related("maintenance")
            .order_by("at", "id")
        ):
            changes[change.component_id].append(change)
    result: dict[int, ComponentUptime] = {}
    for component in components:
        row = [Day(first + timedelta(days=i)) for i in range(days)]
        begin = max(start, _start_of(component, tz))
        if begin < now:
            spans = _spans(component, openings.get(component.pk), changes[component.pk], begin, now)
            _fill(row, bounds, spans)
        result[component.pk] = ComponentUptime(row)
    if ids:
        _add_incidents(result, bounds, ids, now, stop)
    return result


def _add_incidents(result, bounds, ids, now: datetime, stop: datetime) -> None:
    incidents = (
        PublicIncident.objects.filter(components__in=ids, started_at__lt=stop)
        .exclude(resolved_at__lt=bounds[0])
        .distinct()
        .prefetch_related("components")
        .order_by("started_at", "id")
    )
    for incident in incidents:
        finish = incident.resolved_at or now
        for component in incident.components.all():
            row = result.get(component.pk)
            if row is None:
                continue
            for i, day in enumerate(row.days):
                starts_before_end = incident.started_at < bounds[i + 1]
                ends_after_start = finish > bounds[i] or incident.started_at >= bounds[i]
                if starts_before_end and ends_after_start:
                    day.incidents.append(incident)
