"""Shared helpers for the status page's tests: components, groups, and
published incidents made through the services (as every entry point makes
them), and the shortcuts of the management API's URLs.

Fixtures are imported by the modules that use them
(``from tests.statuspage_support import comms, published``)."""

from __future__ import annotations

import pytest

from incidents import services as incident_services
from incidents.models import Role
from statuspage import services
from statuspage.models import Component, ComponentGroup, PageState, PublicIncident
from tests import factories
from tests.admin_support import form_data
from tests.admin_support import url as admin_url

API = "/api/v1"
COMPONENTS = f"{API}/components/"
GROUPS = f"{API}/component-groups/"
PUBLIC_INCIDENTS = f"{API}/public-incidents/"


def component_url(component: Component, action: str = "") -> str:
    return f"{COMPONENTS}{component.code}/" + (f"{action}/" if action else "")


def group_url(group: ComponentGroup) -> str:
    return f"{GROUPS}{group.code}/"


def publish_url(ref: str) -> str:
    return f"{API}/incidents/{ref}/publish/"


def public_url(public: PublicIncident, action: str = "") -> str:
    return f"{PUBLIC_INCIDENTS}{public.code}/" + (f"{action}/" if action else "")


def manager(username: str = "spmanager"):
    """A manager to make things with when the test's own people do not matter."""
    return factories.manager(username)


def make_group(actor=None, name: str = "Core", **fields) -> ComponentGroup:
    return services.group_create(actor=actor or manager(), name=name, **fields)


def make_component(actor=None, name: str = "API", **fields) -> Component:
    """A component made by ``actor`` (a manager) through ``component_create``."""
    return services.component_create(actor=actor or manager(), name=name, **fields)


def make_incident(actor, **fields):
    """An internal incident declared by ``actor`` (a responder)."""
    return factories.declare(actor=actor, **fields)


def make_comms_lead(incident, user, *, by):
    """``user`` becomes ``incident``'s communications lead (assigned by ``by``)."""
    return incident_services.incident_assign_role(
        incident=incident, actor=by, role=Role.COMMUNICATIONS_LEAD, user=user
    )


def publish(
    incident,
    actor,
    *,
    title: str = "Checkout errors",
    impact: str = "major",
    message: str = "We are investigating errors at checkout.",
    components: list | None = None,
) -> PublicIncident:
    return services.incident_publish(
        actor=actor,
        incident=incident,
        title=title,
        impact=impact,
        message=message,
        components=components,
    )


def statuses(*pairs) -> list[dict]:
    """``statuses((api, "major_outage"), …)`` as the services' input."""
    return [{"id": component.code, "status": status} for component, status in pairs]


def version() -> int:
    state = PageState.objects.filter(pk=1).first()
    return state.version if state else 1


@pytest.fixture
def api_component(alice) -> Component:
    """The component "API", operational."""
    return make_component(alice, "API")


@pytest.fixture
def web_component(alice) -> Component:
    return make_component(alice, "Web")


@pytest.fixture
def comms(bob, alice, incident):
    """bob, the communications lead of ``incident``."""
    make_comms_lead(incident, bob, by=alice)
    return bob


@pytest.fixture
def published(incident, alice, api_component) -> PublicIncident:
    """``incident`` on the status page (published by alice), "API" in a major outage."""
    return publish(incident, alice, components=statuses((api_component, "major_outage")))


# --- the admin ---------------------------------------------------------------------------


def admin_change(client, obj, **changes):
    """POST ``obj``'s admin change page as shown, with ``changes``."""
    page = client.get(admin_url(type(obj), "change", obj.pk))
    assert page.status_code == 200, page.status_code
    return client.post(admin_url(type(obj), "change", obj.pk), {**form_data(page), **changes})


def component_form(**fields) -> dict:
    """A component's admin add form as a browser posts it, with ``fields``."""
    return {
        "name": "New",
        "description": "",
        "group": "",
        "status": "operational",
        "position": "0",
        "showcase": "on",
        "start_date": "",
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
        **fields,
    }


def publish_form(internal, **fields) -> dict:
    """The public incident's admin add form (publishing ``internal``)."""
    return {
        "incident": internal.ref,
        "title": "Checkout errors",
        "impact": "major",
        "message": "We are investigating errors at checkout.",
        **fields,
    }
