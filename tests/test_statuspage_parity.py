"""One rule, one refusal, on the status page: for each rule exposed by more
than one entry point, every entry point refuses the same input with the
same words, because each calls the one service that holds the rule, and
nothing is written (no row of the status page, no audit entry, no timeline
event, no bump of the page's version).

Each rule's test is parametrized over ``ENTRY_POINTS[rule]``: a mapping of
entry point name → a function ``(client, by, target) -> outcome``. A new
entry point (the dashboard's status-page screen) adds its callable to the
rules it exposes, with a reader like ``api``/``admin_form`` below, and the
same expectations apply to it unchanged.

An outcome is ``(REFUSED, message)`` (API: 400 or 409 and its ``detail``;
admin: the form shown again with the message, or an error message after a
delete), or ``(FORBIDDEN, None)`` (403).
"""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages

from incidents.models import AuditEntry, Incident, TimelineEvent
from statuspage.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    PageState,
    PublicIncident,
    PublicUpdate,
)
from tests import factories
from tests import statuspage_support as sp
from tests.admin_support import signed_in
from tests.admin_support import url as admin_url
from tests.api_support import token_client

pytestmark = pytest.mark.django_db
api_component, published = sp.api_component, sp.published

REFUSED, FORBIDDEN = "refused", "forbidden"
GUARDED = (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PublicIncident,
    PublicUpdate,
    PageState,
    AuditEntry,
    TimelineEvent,
    Incident,
)
BULK_PREFIX = "Nothing was changed: "


def stored() -> dict:
    rows = {model.__name__: model.objects.order_by("pk") for model in GUARDED}
    # The API client's own token (made as the call starts) is not the change tried.
    rows["AuditEntry"] = rows["AuditEntry"].exclude(object_type="apitoken")
    return {name: list(queryset.values()) for name, queryset in rows.items()}


def refused(attempt, expected) -> None:
    """Run ``attempt`` (no arguments), expect ``expected`` and no write."""
    before = stored()
    assert attempt() == expected
    assert stored() == before


# --- reading a refusal at each entry point ------------------------------------------------


def api(response) -> tuple:
    if response.status_code == 403:
        return FORBIDDEN, None
    if response.status_code in (400, 409):
        return REFUSED, response.json()["detail"]
    return "accepted", response.status_code


def admin_form(response) -> tuple:
    """The messages a refused admin page shows on its form."""
    if response.status_code == 403:
        return FORBIDDEN, None
    if response.status_code != 200:
        return "accepted", response.status_code
    errors = [str(e) for field in response.context["adminform"].form.errors.values() for e in field]
    assert len(errors) == 1, errors
    return REFUSED, errors[0]


def admin_message(response) -> tuple:
    """A refused delete: back with an error message."""
    if response.status_code == 403:
        return FORBIDDEN, None
    said = [m for m in get_messages(response.wsgi_request) if m.level == messages.ERROR]
    if response.status_code == 302 and said:
        return REFUSED, str(said[0]).removeprefix(BULK_PREFIX)
    return "accepted", response.status_code


# --- the entry points, rule by rule -----------------------------------------------------------


def api_add_component(client, by, name):
    return api(token_client(by).post(sp.COMPONENTS, {"name": name}, format="json"))


def admin_add_component(client, by, name):
    form = sp.component_form(name=name)
    return admin_form(signed_in(by).post(admin_url(Component, "add"), form))


def api_set_status(client, by, component, status):
    url = sp.component_url(component)
    return api(token_client(by).patch(url, {"status": status}, format="json"))


def api_status_action(client, by, component, status):
    url = sp.component_url(component, "status")
    return api(token_client(by).post(url, {"status": status}, format="json"))


def admin_set_status(client, by, component, status):
    return admin_form(sp.admin_change(signed_in(by), component, status=status))


def api_publish(client, by, incident):
    body = {"title": "Checkout errors", "impact": "major", "message": "Looking into it."}
    return api(token_client(by).post(sp.publish_url(incident.ref), body, format="json"))


def admin_publish(client, by, incident):
    form = sp.publish_form(incident)
    return admin_form(signed_in(by).post(admin_url(PublicIncident, "add"), form))


def api_delete_component(client, by, component):
    return api(token_client(by).delete(sp.component_url(component)))


def admin_delete_component(client, by, component):
    url = admin_url(Component, "delete", component.pk)
    return admin_message(signed_in(by).post(url, {"post": "yes"}))


def admin_bulk_delete_component(client, by, component):
    spare = sp.make_component(name="Spare")  # could go alone; not with the other
    body = {
        "action": "delete_selected",
        "post": "yes",
        "_selected_action": [spare.pk, component.pk],
    }
    # The spare's creation is the test's setup, not the change tried.
    return spare, admin_message(signed_in(by).post(admin_url(Component, "changelist"), body))


ENTRY_POINTS = {
    "add component": {"api": api_add_component, "admin": admin_add_component},
    "set status": {
        "api (manager's edit)": api_set_status,
        "api (status action)": api_status_action,
        "admin": admin_set_status,
    },
    "publish": {"api": api_publish, "admin": admin_publish},
    "delete component": {"api": api_delete_component, "admin": admin_delete_component},
}


def entries(rule: str) -> list[str]:
    return list(ENTRY_POINTS[rule])


# --- the rules -------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", entries("add component"))
def test_a_component_name_is_taken_whatever_its_case(client, alice, api_component, entry):
    attempt = ENTRY_POINTS["add component"][entry]
    refused(
        lambda: attempt(client, alice, "api"),
        (REFUSED, "A component named 'api' exists already."),
    )


@pytest.mark.parametrize("entry", entries("set status"))
def test_an_unknown_component_status_is_refused(client, alice, api_component, entry):
    attempt = ENTRY_POINTS["set status"][entry]
    allowed = ", ".join(ComponentStatus.values)
    refused(
        lambda: attempt(client, alice, api_component, "on_fire"),
        (REFUSED, f"status must be one of: {allowed} (got 'on_fire')."),
    )


@pytest.mark.parametrize("entry", entries("publish"))
def test_a_drill_is_never_published(client, alice, bob, entry):
    drill = factories.declare(actor=bob, is_drill=True)
    attempt = ENTRY_POINTS["publish"][entry]
    refused(
        lambda: attempt(client, alice, drill),
        (REFUSED, "A drill is never published on the status page."),
    )


@pytest.mark.parametrize("entry", entries("publish"))
def test_an_incident_is_published_once(client, alice, published, entry):
    incident = published.incident
    attempt = ENTRY_POINTS["publish"][entry]
    refused(
        lambda: attempt(client, alice, incident),
        (REFUSED, f"{incident.ref} is on the status page already; post a public update instead."),
    )


@pytest.mark.parametrize("entry", entries("publish"))
def test_only_the_comms_lead_commander_or_a_manager_publishes(client, incident, bob, entry):
    """bob (a responder holding no role on it; staff, so the admin lets him in
    as far as its permissions) is refused everywhere."""
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    attempt = ENTRY_POINTS["publish"][entry]
    refused(lambda: attempt(client, bob, incident), (FORBIDDEN, None))


@pytest.mark.parametrize("entry", [*entries("delete component"), "admin bulk delete"])
def test_a_component_of_an_unresolved_public_incident_is_not_deleted(
    client, alice, published, api_component, entry
):
    expected = (
        REFUSED,
        "API is affected by an unresolved public incident; resolve it first.",
    )
    if entry == "admin bulk delete":
        before = stored()
        spare, outcome = admin_bulk_delete_component(client, alice, api_component)
        assert outcome == expected
        assert Component.objects.filter(pk=spare.pk).exists()  # nothing of the batch went
        after = stored()
        # Only the spare's own creation differs.
        assert after["PublicIncident"] == before["PublicIncident"]
        assert [c["id"] for c in after["Component"]] == [
            *[c["id"] for c in before["Component"]],
            spare.pk,
        ]
        assert not AuditEntry.objects.filter(action="component_delete").exists()
        return
    attempt = ENTRY_POINTS["delete component"][entry]
    refused(lambda: attempt(client, alice, api_component), expected)
