"""The communications lead's screen's reads, in a constant number of
queries (STYLE.md 10): the page as the public sees it, the incidents to
publish, speak for or resolve publicly, and the components."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from incidents import clock
from incidents.access import can_manage, can_respond
from incidents.models import OPEN_STATUSES, Incident, Role, RoleAssignment

from .. import selectors
from ..models import UNRESOLVED, Component, PublicIncident, PublicStatus
from ..selectors import PageData

# Publicly resolved incidents the screen still lists (to add a word or reopen).
RECENT = timedelta(days=3)
SPEAKERS = (Role.COMMANDER, Role.COMMUNICATIONS_LEAD)


def _people() -> Prefetch:
    return Prefetch(
        "role_assignments",
        queryset=RoleAssignment.objects.filter(relieved_at__isnull=True).select_related("user"),
        to_attr="active_assignments",
    )


def may_publish(user, incident: Incident) -> bool:
    """``statuspage.access.can_publish`` read from the prefetched role
    holders (one question per card would be a query each). It only decides
    which form to show: the services ask ``access`` themselves."""
    if can_manage(user):
        return True
    if not can_respond(user):
        return False
    return any(
        a.user_id == user.pk and a.role in SPEAKERS
        for a in getattr(incident, "active_assignments", [])
    )


@dataclass
class Card:
    """One incident on the screen: internal (to publish) or public."""

    incident: Incident
    public: PublicIncident | None
    may_publish: bool
    # Set by the view: the publish or update form the card offers, and its draft.
    form: object = None
    preview: object = None

    @property
    def resolve_publicly(self) -> bool:
        """Over inside, still open in public: the guide's resolved update is due."""
        return (
            self.public is not None
            and self.public.status in UNRESOLVED
            and not self.incident.is_open
        )

    @property
    def latest(self):
        updates = list(self.public.updates.all()) if self.public else []
        return updates[0] if updates else None


@dataclass
class Screen:
    page: PageData
    components: list[Component]
    to_publish: list[Card] = field(default_factory=list)
    to_resolve: list[Card] = field(default_factory=list)
    published: list[Card] = field(default_factory=list)
    recent: list[Card] = field(default_factory=list)

    def cards(self) -> list[Card]:
        return [*self.to_resolve, *self.to_publish, *self.published, *self.recent]

    def component_groups(self) -> list[tuple[str, list[Component]]]:
        return grouped(self.page, self.components)


def grouped(page: PageData, components: list[Component]) -> list[tuple[str, list[Component]]]:
    """Every component (shown publicly or not) under its group's name,
    ungrouped ones first, in the public page's order."""
    rows = [("", [c for c in components if c.group_id is None])]
    rows += [(g.name, [c for c in components if c.group_id == g.pk]) for g in page.groups]
    return [(name, members) for name, members in rows if members]


def _public_incidents():
    return (
        selectors.public_incidents()
        .select_related("incident")
        .prefetch_related(
            Prefetch(
                "incident__role_assignments",
                queryset=_people().queryset,
                to_attr="active_assignments",
            )
        )
    )


def screen(user) -> Screen:
    """Everything /status-page/ shows: eleven queries, whatever it holds."""
    now = clock.now()
    page = selectors.page_data(now=now)
    unpublished = (
        Incident.objects.filter(
            status__in=OPEN_STATUSES, is_drill=False, public_incident__isnull=True
        )
        .prefetch_related(_people())
        .order_by("severity", "detected_at")
    )
    public = _public_incidents().filter(status__in=UNRESOLVED).order_by("-started_at", "-id")
    recent = _public_incidents().filter(
        status__in=[PublicStatus.RESOLVED, PublicStatus.POSTMORTEM],
        resolved_at__gte=now - RECENT,
    )
    result = Screen(page=page, components=page.components)
    for incident in unpublished:
        result.to_publish.append(Card(incident, None, may_publish(user, incident)))
    for item in public:
        card = Card(item.incident, item, may_publish(user, item.incident))
        (result.to_resolve if card.resolve_publicly else result.published).append(card)
    for item in recent.order_by("-resolved_at", "-id"):
        result.recent.append(Card(item.incident, item, may_publish(user, item.incident)))
    return result


@dataclass
class IncidentScreen:
    """One incident's public side (/status-page/incidents/<ref>/)."""

    card: Card
    components: list[Component]
    page: PageData


def incident_screen(user, ref: str) -> IncidentScreen:
    incident = get_object_or_404(Incident.objects.prefetch_related(_people()), ref=ref)
    public = _public_incidents().filter(incident=incident).first()
    page = selectors.page_data()
    return IncidentScreen(
        card=Card(incident, public, may_publish(user, incident)),
        components=page.components,
        page=page,
    )
