"""Helpers for the status-page screen's tests (tests/test_statuspage_manage*.py):
components, a communications lead, the screen's URLs."""

from __future__ import annotations

from django.urls import reverse

from incidents import services as incident_services
from incidents.models import Incident, Role
from statuspage import services
from statuspage.models import Component, PageState, PublicIncident
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}
SCREEN = "/status-page/"
# Planted in every internal field: none of it may reach a draft or a preview.
SECRET = "SECRET-7f3a"


def url(name: str, *args) -> str:
    return reverse(f"statuspage-manage:{name}", args=args)


def components(manager, *names: str) -> list[Component]:
    return [services.component_create(actor=manager, name=name) for name in names]


def comms_lead(incident: Incident, *, by, username: str = "carol"):
    """A responder made the incident's communications lead."""
    person = factories.responder(username)
    incident_services.incident_assign_role(
        incident=incident, actor=by, role=Role.COMMUNICATIONS_LEAD, user=person
    )
    return person


def secret_incident(actor, **fields) -> Incident:
    """An incident whose every internal field holds ``SECRET``."""
    return factories.declare(
        actor=actor,
        title=f"{SECRET} title",
        summary=f"{SECRET} summary",
        impact=f"{SECRET} impact",
        services=[f"{SECRET.lower()}-svc"],
        **fields,
    )


def publish(incident: Incident, actor, **fields) -> PublicIncident:
    values = {"title": "Checkout errors", "impact": "major", "message": "We are looking."}
    values.update(fields)
    return services.incident_publish(actor=actor, incident=incident, **values)


def page_version() -> int:
    state = PageState.objects.filter(pk=1).first()
    return state.version if state else 0
