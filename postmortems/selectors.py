"""What the post-mortem pages read, each in a constant number of queries
(STYLE.md 10; tests/test_pm_dashboard_list.py pins the counts): one
post-mortem with everything its page shows, the list with its filters, and
the follow-up backlog (open and overdue action items per owner and per
service, and the open count at the end of each of the last weeks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from incidents.models import Incident, RoleAssignment
from incidents.people import display_name

from .models import (
    OPEN_ACTIONS,
    ActionItem,
    Feedback,
    Postmortem,
    PostmortemStatus,
    Review,
)

TREND_WEEKS = 12


def _active_roles() -> Prefetch:
    """The incident's role holders now (``Incident.commander`` reads them)."""
    return Prefetch(
        "incident__role_assignments",
        queryset=RoleAssignment.objects.filter(relieved_at__isnull=True).select_related("user"),
        to_attr="active_assignments",
    )


def postmortem_page(pk: int) -> Postmortem:
    """One post-mortem with its incident, role holders, services, timeline,
    reviews, action items, feedback and participants: nine queries."""
    queryset = Postmortem.objects.select_related("incident", "owner").prefetch_related(
        _active_roles(),
        "incident__services",
        "timeline",
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        Prefetch("action_items", queryset=ActionItem.objects.select_related("owner", "tracker")),
        Prefetch("feedback", queryset=Feedback.objects.select_related("author")),
        "participants",
    )
    return get_object_or_404(queryset, pk=pk)


def people() -> list:
    """Everyone who can be named a participant, reviewer or owner."""
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


# --- the list ---------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    """The list's filter bar, parsed; empty values leave a filter off."""

    q: str = ""
    severity: str = ""
    service: str = ""
    status: str = ""
    overdue: bool = False

    @property
    def narrows(self) -> bool:
        return bool(self.q or self.severity or self.service or self.status or self.overdue)


def postmortem_list(filters: ListFilters, *, now: datetime) -> QuerySet[Postmortem]:
    """Post-mortems newest first, each with its open action items counted;
    the search looks at the incident's title and reference and the summary."""
    queryset = (
        Postmortem.objects.select_related("incident", "owner")
        .prefetch_related("incident__services")
        .annotate(
            open_items=Count("action_items", filter=Q(action_items__status__in=OPEN_ACTIONS)),
            overdue_items=Count(
                "action_items",
                filter=Q(
                    action_items__status__in=OPEN_ACTIONS,
                    action_items__due_date__lt=now.date(),
                ),
            ),
        )
        .order_by("-incident__detected_at", "-id")
    )
    if filters.q:
        words = filters.q.strip()
        queryset = queryset.filter(
            Q(incident__title__icontains=words)
            | Q(incident__ref__iexact=words)
            | Q(summary__icontains=words)
        )
    if filters.severity:
        queryset = queryset.filter(incident__severity=filters.severity)
    if filters.service:
        queryset = queryset.filter(
            Exists(
                Incident.services.through.objects.filter(
                    incident_id=OuterRef("incident_id"), service__name=filters.service
                )
            )
        )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.overdue:
        queryset = queryset.filter(due_at__lt=now).exclude(status=PostmortemStatus.PUBLISHED)
    return queryset


# --- the follow-up backlog -----------------------------------------------------------


@dataclass
class BacklogRow:
    name: str
    open: int
    overdue: int
    username: str = ""


@dataclass
class TrendPoint:
    week_of: date
    end: datetime
    open: int
    overdue: int
    current: bool = False


@dataclass
class Backlog:
    by_owner: list[BacklogRow] = field(default_factory=list)
    by_service: list[BacklogRow] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    open: int = 0
    overdue: int = 0

    @property
    def trend_max(self) -> int:
        return max((point.open for point in self.trend), default=0)


def _open_items() -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(status__in=OPEN_ACTIONS)


def _counts(today: date) -> dict:
    return {"open": Count("id"), "overdue": Count("id", filter=Q(due_date__lt=today))}


def week_ends(now: datetime, weeks: int = TREND_WEEKS) -> list[tuple[date, datetime]]:
    """(Monday, end) of each of the last ``weeks`` weeks, oldest first; the
    current week ends now."""
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    ends = [
        ((monday - timedelta(weeks=back)).date(), monday - timedelta(weeks=back - 1))
        for back in range(weeks - 1, 0, -1)
    ]
    return [*ends, (monday.date(), now)]


def backlog(*, now: datetime) -> Backlog:
    """The open follow-ups per owner and per service, and the trend: three queries.

    An item was open at a week's end when it existed then and was not yet
    closed: still open now, or closed (``done_at``) after that end."""
    today = now.date()
    User = get_user_model()
    result = Backlog()
    owners = (
        _open_items()
        .values("owner", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(**_counts(today))
        .order_by("-overdue", "-open", "owner__username")
    )
    for row in owners:
        if row["owner"] is None:
            name, username = "Nobody (unassigned)", ""
        else:
            person = User(
                username=row["owner__username"],
                first_name=row["owner__first_name"],
                last_name=row["owner__last_name"],
            )
            name, username = display_name(person), row["owner__username"]
        result.by_owner.append(BacklogRow(name, row["open"], row["overdue"], username))
        result.open += row["open"]
        result.overdue += row["overdue"]
    services = (
        _open_items()
        .values("postmortem__incident__services__name")
        .annotate(**_counts(today))
        .order_by("-overdue", "-open", "postmortem__incident__services__name")
    )
    for row in services:
        name = row["postmortem__incident__services__name"] or "No service"
        result.by_service.append(BacklogRow(name, row["open"], row["overdue"]))
    ends = week_ends(now)
    aggregates = {}
    for index, (_, end) in enumerate(ends):
        was_open = Q(created_at__lte=end) & (Q(status__in=OPEN_ACTIONS) | Q(done_at__gt=end))
        aggregates[f"open_{index}"] = Count("id", filter=was_open)
        aggregates[f"overdue_{index}"] = Count("id", filter=was_open & Q(due_date__lt=end.date()))
    counts = ActionItem.objects.aggregate(**aggregates)
    for index, (monday, end) in enumerate(ends):
        result.trend.append(
            TrendPoint(
                week_of=monday,
                end=end,
                open=counts[f"open_{index}"],
                overdue=counts[f"overdue_{index}"],
                current=index == len(ends) - 1,
            )
        )
    return result
