"""Reads of the public page, in a constant number of queries (STYLE.md 10).

Everything the public sees is derived here from the status page's own
tables, never from the internal incident: the overall indicator, the
components by group, open and recent incidents, maintenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch

from incidents import clock

from .models import (
    UNRESOLVED,
    Component,
    ComponentGroup,
    ComponentStatus,
    Maintenance,
    MaintenanceStatus,
    PageState,
    PublicIncident,
    PublicUpdate,
)

# Statuspage's indicator, most serious last.
INDICATOR_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
IMPACT_DESCRIPTION = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
# How bad each component status is for the page (the indicator it implies,
# the description when it is the worst thing on the page).
COMPONENT_INDICATOR = {
    ComponentStatus.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentStatus.UNDER_MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    ComponentStatus.DEGRADED_PERFORMANCE: ("minor", "Partially Degraded Service"),
    ComponentStatus.PARTIAL_OUTAGE: ("minor", "Minor Service Outage"),
    ComponentStatus.MAJOR_OUTAGE: ("major", "Partial System Outage"),
}
COMPONENT_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}
# Resolved incidents shown under "Past incidents" on the home page.
PAST_DAYS = 15


@dataclass(frozen=True)
class Indicator:
    indicator: str
    description: str


def overall(components, open_incidents, *, maintenance_in_progress: bool = False) -> Indicator:
    """The page's indicator and description (Statuspage's ``status``).

    1. Each component's status implies an indicator; every component in
       ``major_outage`` (more than one component) is ``critical``.
    2. Each open public incident implies its ``impact``.
    3. The most serious wins; ``maintenance`` only when nothing is worse
       (a component under maintenance, or a maintenance in progress).
    """
    statuses = [c.status for c in components]
    # The worst component says it (not the first of equal indicators: a
    # partial outage beside a degraded one is an outage, in any order).
    best = Indicator(*COMPONENT_INDICATOR[worst_status(statuses)])
    if len(statuses) > 1 and all(s == ComponentStatus.MAJOR_OUTAGE for s in statuses):
        best = Indicator("critical", "Major System Outage")
    for incident in open_incidents:
        impact = incident.impact
        if impact != "none" and INDICATOR_RANK[impact] > INDICATOR_RANK[best.indicator]:
            best = Indicator(impact, IMPACT_DESCRIPTION[impact])
    if best.indicator == "none" and maintenance_in_progress:
        best = Indicator("maintenance", "Service Under Maintenance")
    return best


def worst_status(statuses) -> str:
    """A group's status: its worst component's."""
    return max(statuses, key=COMPONENT_RANK.__getitem__, default=ComponentStatus.OPERATIONAL)


def updates_prefetch() -> Prefetch:
    return Prefetch("updates", queryset=PublicUpdate.objects.order_by("-display_at", "-id"))


def public_incidents():
    return PublicIncident.objects.prefetch_related(updates_prefetch(), "components")


def maintenances():
    return Maintenance.objects.prefetch_related(updates_prefetch(), "components")


@dataclass
class GroupView:
    group: ComponentGroup | None
    components: list[Component]

    @property
    def status(self) -> str:
        return worst_status([c.status for c in self.components])


@dataclass
class PageData:
    """Everything the home page and ``summary.json`` show."""

    now: datetime
    version: int
    updated_at: datetime
    status: Indicator
    components: list[Component]
    groups: list[ComponentGroup]
    open_incidents: list[PublicIncident]
    active_maintenances: list[Maintenance]
    upcoming_maintenances: list[Maintenance]
    past_incidents: list[PublicIncident] = field(default_factory=list)

    def shown_groups(self) -> list[GroupView]:
        """Components as the page lists them: by group (groups in order,
        ungrouped ones in between by position), hiding those not showcased
        and the operational ones that show only when degraded."""
        shown = [
            c
            for c in self.components
            if c.showcase
            and not (c.only_show_if_degraded and c.status == ComponentStatus.OPERATIONAL)
        ]
        views: list[GroupView] = []
        for group in self.groups:
            members = [c for c in shown if c.group_id == group.pk]
            if members:
                views.append(GroupView(group, members))
        loose = [c for c in shown if c.group_id is None]
        if loose:
            views.insert(0, GroupView(None, loose))
        return views


def page_state() -> PageState:
    state = PageState.objects.filter(pk=1).first()
    return state or PageState(pk=1, version=1, updated_at=clock.now())


def page_data(*, now: datetime | None = None) -> PageData:
    """The home page's reads: seven queries, whatever the page holds."""
    now = now or clock.now()
    state = page_state()
    components = list(Component.objects.select_related("group"))
    groups = list(ComponentGroup.objects.all())
    open_incidents = list(
        public_incidents().filter(status__in=UNRESOLVED).order_by("-started_at", "-id")
    )
    upcoming = list(
        maintenances()
        .filter(
            status__in=[
                MaintenanceStatus.SCHEDULED,
                MaintenanceStatus.IN_PROGRESS,
                MaintenanceStatus.VERIFYING,
            ]
        )
        .order_by("scheduled_for", "id")
    )
    active = [m for m in upcoming if m.status != MaintenanceStatus.SCHEDULED]
    scheduled = [m for m in upcoming if m.status == MaintenanceStatus.SCHEDULED]
    past = list(
        public_incidents()
        .exclude(status__in=UNRESOLVED)
        .filter(resolved_at__gte=now - timedelta(days=PAST_DAYS))
        .order_by("-resolved_at", "-id")
    )
    return PageData(
        now=now,
        version=state.version,
        updated_at=state.updated_at,
        status=overall(components, open_incidents, maintenance_in_progress=bool(active)),
        components=components,
        groups=groups,
        open_incidents=open_incidents,
        active_maintenances=active,
        upcoming_maintenances=scheduled,
        past_incidents=past,
    )
