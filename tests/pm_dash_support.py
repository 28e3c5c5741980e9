"""Helpers for the post-mortem pages' tests (tests/test_pm_dashboard*.py):
a resolved P1 with its post-mortem, the pages' URLs, a document ready to publish."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from incidents import clock
from incidents import services as incident_services
from postmortems import services
from postmortems.models import ActionItem, Postmortem
from tests import factories

HTMX = {"HTTP_HX_REQUEST": "true"}
# Markdown that must render harmless wherever it is shown.
HOSTILE = (
    "<script>alert('x')</script>\n\n"
    "[click me](javascript:alert('y'))\n\n"
    '<img src="x" onerror="alert(\'z\')">\n\n'
    '<a href="#" onclick="alert(1)">a link</a>'
)


def url(name: str, *args) -> str:
    return reverse(f"postmortems:{name}", args=args)


def resolved_postmortem(actor, **fields) -> Postmortem:
    """A P1 commanded by ``actor`` and resolved: its post-mortem (a draft, owned by ``actor``)."""
    values = {"severity": "P1", "title": "Checkout API returning 500s"}
    values.update(fields)
    incident = factories.declare(actor=actor, **values)
    incident_services.incident_acknowledge(incident=incident, actor=actor)
    incident_services.incident_assign_role(
        incident=incident, actor=actor, role="commander", user=actor
    )
    incident_services.incident_resolve(
        incident=incident,
        actor=actor,
        root_cause="A connection pool of 10 for 40 workers",
        resolution="Pool raised to 50",
    )
    return Postmortem.objects.get(incident=incident)


def action_item(postmortem: Postmortem, owner, **fields) -> ActionItem:
    """An action item written straight to the table: setups need items due
    in the past, which ``action_item_add`` refuses for a new item."""
    now = clock.now()
    values = {"title": "Alert on pool saturation", "due_date": date(2030, 1, 31)}
    values.update(fields)
    return ActionItem.objects.create(
        postmortem=postmortem, owner=owner, created_at=now, updated_at=now, **values
    )


def fill(postmortem: Postmortem, actor, owner=None) -> Postmortem:
    """Every section of the guide's template written, and one action item."""
    services.postmortem_update(
        actor=actor,
        postmortem=postmortem,
        summary="Checkout failed for 40 minutes.",
        users_affected="About 3 % of checkouts",
        what_went_well="Fast rollback",
        what_could_be_improved="Pool alerts",
        lessons_learned="Size pools with the workers.",
    )
    action_item(postmortem, owner or actor)
    return postmortem
