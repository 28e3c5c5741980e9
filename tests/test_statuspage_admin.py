"""The status page's admin pages: managers only, every save through the
services, a refusal shown beside its field (or as a message), never a 500."""

from __future__ import annotations

import pytest

from incidents.models import AuditEntry, EventKind, TimelineEvent
from statuspage.models import (
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PageState,
    PublicIncident,
)
from tests import factories
from tests import statuspage_support as sp
from tests.admin_support import form_errors, messages_of, signed_in
from tests.admin_support import url as admin_url
from tests.statuspage_support import (
    admin_change,
    component_form,
    make_component,
    make_group,
    publish_form,
    statuses,
    version,
)

pytestmark = pytest.mark.django_db
api_component, published = sp.api_component, sp.published

PAGES = [Component, ComponentGroup, PublicIncident, PageState]


@pytest.mark.parametrize("model", PAGES)
def test_pages_open_for_managers(alice, published, model):
    make_group(alice, "Core")
    client = signed_in(alice)
    assert client.get(admin_url(model, "changelist")).status_code == 200
    row = model.objects.first()
    assert client.get(admin_url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize("model", PAGES)
def test_staff_who_are_not_managers_see_nothing(bob, published, model):
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    client = signed_in(bob)
    assert client.get(admin_url(model, "changelist")).status_code == 403
    # Scheduled maintenance is the responders' too (as in the API and the
    # dashboard); nothing else of the status page is.
    index = client.get("/admin/").content.decode()
    assert [admin_url(page, "changelist") in index for page in PAGES] == [False] * len(PAGES)


def test_component_list_shows_status_group_position(alice):
    make_component(alice, "API", group=make_group(alice, "Core"), position=4)
    page = signed_in(alice).get(admin_url(Component, "changelist"))
    html = page.content.decode()
    assert "API" in html and "Core" in html and "Operational" in html


def test_add_edit_delete_a_component_through_the_services(alice):
    client = signed_in(alice)
    group = make_group(alice, "Core")
    added = client.post(
        admin_url(Component, "add"), component_form(name="Checkout", group=group.pk)
    )
    assert added.status_code == 302, form_errors(added)
    component = Component.objects.get(name="Checkout")
    assert component.group == group and component.changes.count() == 1
    assert AuditEntry.objects.filter(action="component_create").exists()

    before = version()
    changed = admin_change(client, component, status="major_outage", position="7")
    assert changed.status_code == 302
    component.refresh_from_db()
    assert (component.status, component.position) == ("major_outage", 7)
    assert component.changes.last().new_status == "major_outage"
    assert version() > before

    deleted = client.post(admin_url(Component, "delete", component.pk), {"post": "yes"})
    assert deleted.status_code == 302
    assert not Component.objects.exists()


def test_refusals_show_beside_the_field(alice):
    make_component(alice, "API")
    client = signed_in(alice)
    duplicate = client.post(admin_url(Component, "add"), component_form(name="api"))
    assert "exists already" in form_errors(duplicate)["name"][0]
    bad = client.post(admin_url(Component, "add"), component_form(status="on_fire"))
    assert "status must be one of" in form_errors(bad)["status"][0]
    blank = client.post(admin_url(Component, "add"), component_form(name="  "))
    assert "name" in form_errors(blank)
    assert Component.objects.count() == 1


def test_status_actions(alice, api_component):
    client = signed_in(alice)
    response = client.post(
        admin_url(Component, "changelist"),
        {"action": "set_partial_outage", "_selected_action": [api_component.pk]},
    )
    assert response.status_code == 302
    api_component.refresh_from_db()
    assert api_component.status == "partial_outage"
    assert ComponentStatusChange.objects.filter(actor=alice, new_status="partial_outage").exists()


def test_groups(alice):
    client = signed_in(alice)
    added = client.post(
        admin_url(ComponentGroup, "add"), {"name": "Core", "description": "", "position": "1"}
    )
    assert added.status_code == 302
    group = ComponentGroup.objects.get()
    make_component(alice, "API", group=group)
    assert b"Core" in client.get(admin_url(ComponentGroup, "changelist")).content
    again = client.post(
        admin_url(ComponentGroup, "add"), {"name": "core", "description": "", "position": "1"}
    )
    assert "exists already" in form_errors(again)["name"][0]
    renamed = admin_change(client, group, name="Platform")
    assert renamed.status_code == 302
    group.refresh_from_db()
    assert group.name == "Platform"
    assert (
        client.post(admin_url(ComponentGroup, "delete", group.pk), {"post": "yes"}).status_code
        == 302
    )
    assert Component.objects.get().group is None


def test_publishing_from_the_admin(alice, bob, api_component):
    incident = factories.declare(actor=bob)
    client = signed_in(alice)
    page = client.get(admin_url(PublicIncident, "add"))
    assert page.status_code == 200
    response = client.post(admin_url(PublicIncident, "add"), publish_form(incident))
    assert response.status_code == 302, form_errors(response)
    public = PublicIncident.objects.get(incident=incident)
    assert (public.name, public.impact, public.updates.count()) == ("Checkout errors", "major", 1)
    assert TimelineEvent.objects.filter(incident=incident, kind=EventKind.PUBLISHED).exists()
    unknown = client.post(
        admin_url(PublicIncident, "add"), publish_form(incident, incident="INC-1")
    )
    assert "No incident" in form_errors(unknown)["incident"][0]
    blank = client.post(admin_url(PublicIncident, "add"), publish_form(incident, title=""))
    assert "title" in form_errors(blank)


def test_public_incident_rename_and_impact(alice, published):
    client = signed_in(alice)
    page = client.get(admin_url(PublicIncident, "change", published.pk))
    html = page.content.decode()
    assert "We are investigating errors at checkout." in html  # its updates, inline
    response = admin_change(client, published, name="Payments failing", impact="critical")
    assert response.status_code == 302
    published.refresh_from_db()
    assert (published.name, published.impact) == ("Payments failing", "critical")
    bad = admin_change(client, published, impact="enormous")
    assert "impact must be one of" in form_errors(bad)["impact"][0]
    published.refresh_from_db()
    assert published.impact == "critical"


def test_public_incidents_are_never_deleted(alice, published):
    response = signed_in(alice).post(
        admin_url(PublicIncident, "delete", published.pk), {"post": "yes"}
    )
    assert response.status_code == 403
    assert PublicIncident.objects.exists()


def test_deleting_a_component_of_an_open_incident_is_a_message(alice, published, api_component):
    client = signed_in(alice)
    response = client.post(admin_url(Component, "delete", api_component.pk), {"post": "yes"})
    assert response.status_code == 302
    assert any("unresolved public incident" in m for m in messages_of(response))
    assert Component.objects.filter(pk=api_component.pk).exists()


def test_page_state_is_read_only(alice, api_component):
    client = signed_in(alice)
    state = PageState.objects.get()
    assert (
        client.post(admin_url(PageState, "change", state.pk), {"version": "1"}).status_code == 403
    )
    assert client.get(admin_url(PageState, "add")).status_code == 403
    assert statuses((api_component, "operational"))  # the helper's shape, used by parity tests
