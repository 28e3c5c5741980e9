"""/api/v1/components/ and /api/v1/component-groups/: who may do what, the
JSON, and the services' refusals as 400/409 naming the field."""

from __future__ import annotations

import pytest

from incidents.models import AuditEntry
from statuspage.models import Component, ComponentGroup, ComponentStatusChange
from tests.api_support import token_client
from tests.statuspage_support import (
    COMPONENTS,
    GROUPS,
    component_url,
    group_url,
    make_component,
    make_group,
    version,
)

pytestmark = pytest.mark.django_db

COMPONENT_KEYS = {
    "id",
    "name",
    "description",
    "group",
    "status",
    "position",
    "showcase",
    "only_show_if_degraded",
    "start_date",
    "created_at",
    "updated_at",
}


def test_manager_creates_a_component_in_a_group(alice):
    api = token_client(alice)
    group = make_group(alice, "Core")
    before = version()
    response = api.post(
        COMPONENTS,
        {
            "name": "Checkout API",
            "description": "Payments",
            "group": group.code,
            "status": "degraded_performance",
            "position": 3,
            "showcase": False,
            "only_show_if_degraded": True,
            "start_date": "2026-01-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == COMPONENT_KEYS
    component = Component.objects.get(code=body["id"])
    assert body["group"] == group.code
    assert (body["status"], body["position"], body["showcase"]) == (
        "degraded_performance",
        3,
        False,
    )
    assert body["only_show_if_degraded"] is True and body["start_date"] == "2026-01-01"
    assert component.changes.get().new_status == "degraded_performance"
    assert AuditEntry.objects.filter(action="component_create").exists()
    assert version() > before


def test_reading_lists_and_retrieves_by_id(vera, alice):
    api = make_component(alice, "API")
    make_component(alice, "Web")
    client = token_client(vera, "read")
    listed = client.get(COMPONENTS)
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()] == ["API", "Web"]
    one = client.get(component_url(api))
    assert one.status_code == 200 and one.json()["id"] == api.code
    assert client.get(f"{COMPONENTS}nosuchthing1/").status_code == 404


def test_viewer_and_no_group_cannot_write(vera, charlie, alice):
    api = make_component(alice, "API")
    assert token_client(vera).post(COMPONENTS, {"name": "X"}, format="json").status_code == 403
    assert (
        token_client(vera).patch(component_url(api), {"status": "major_outage"}).status_code == 403
    )
    assert token_client(charlie).get(COMPONENTS).status_code == 403
    assert Component.objects.count() == 1


def test_read_token_cannot_write(alice):
    response = token_client(alice, "read").post(COMPONENTS, {"name": "X"}, format="json")
    assert response.status_code == 403
    assert "scope" in response.json()["detail"]


def test_responder_sets_only_the_status(bob, alice):
    api = make_component(alice, "API")
    client = token_client(bob)
    response = client.patch(component_url(api), {"status": "partial_outage"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "partial_outage"
    change = ComponentStatusChange.objects.filter(component=api).last()
    assert (change.old_status, change.new_status, change.actor) == (
        "operational",
        "partial_outage",
        bob,
    )
    for body in ({"name": "Renamed"}, {"status": "operational", "position": 9}):
        refused = client.patch(component_url(api), body, format="json")
        assert refused.status_code == 403, body
    assert client.post(COMPONENTS, {"name": "New"}, format="json").status_code == 403
    assert client.delete(component_url(api)).status_code == 403
    api.refresh_from_db()
    assert (api.name, api.status, api.position) == ("API", "partial_outage", 1)


def test_status_action(bob, alice):
    api = make_component(alice, "API")
    client = token_client(bob)
    response = client.post(component_url(api, "status"), {"status": "major_outage"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "major_outage"
    bad = client.post(component_url(api, "status"), {"status": "on_fire"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    assert (
        token_client(alice)
        .post(component_url(api, "status"), {"status": "operational"}, format="json")
        .json()["status"]
        == "operational"
    )


def test_manager_edits_and_moves_between_groups(alice):
    api = make_component(alice, "API")
    group = make_group(alice, "Core")
    client = token_client(alice)
    response = client.patch(
        component_url(api), {"group": group.code, "status": "major_outage"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["group"] == group.code
    assert api.changes.last().new_status == "major_outage"
    response = client.patch(component_url(api), {"group": None}, format="json")
    assert response.json()["group"] is None


def test_refusals_name_the_field(alice):
    make_component(alice, "API")
    client = token_client(alice)
    cases = [
        ({"name": "api"}, 409, "name"),  # names are unique whatever the case
        ({"name": ""}, 400, "name"),
        ({"name": "X" * 101}, 400, "name"),
        ({"name": "X", "group": "nosuchgroup1"}, 400, "group"),
        ({"name": "X", "status": "on_fire"}, 400, "status"),
        ({"name": "X", "position": "first"}, 400, "position"),
        ({"name": "X", "position": -1}, 400, "position"),
        ({"name": "X", "showcase": "perhaps"}, 400, "showcase"),
        ({"name": "X", "start_date": "yesterday"}, 400, "start_date"),
        ({"name": "X", "id": "mine"}, 400, "id"),
    ]
    for body, status, field in cases:
        response = client.post(COMPONENTS, body, format="json")
        assert response.status_code == status, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    assert client.post(COMPONENTS, [1, 2], format="json").status_code == 400
    assert Component.objects.count() == 1


def test_delete(alice):
    api = make_component(alice, "API")
    response = token_client(alice).delete(component_url(api))
    assert response.status_code == 204
    assert not Component.objects.exists()
    assert AuditEntry.objects.filter(action="component_delete").exists()


# --- groups ------------------------------------------------------------------------------


def test_groups_crud(alice, vera):
    client = token_client(alice)
    created = client.post(GROUPS, {"name": "Core", "description": "The core"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert {"id", "name", "description", "position", "components"} <= set(body)
    group = ComponentGroup.objects.get(code=body["id"])
    make_component(alice, "API", group=group)
    make_component(alice, "Web", group=group, position=0)
    read = token_client(vera, "read").get(group_url(group)).json()
    assert [Component.objects.get(code=c).name for c in read["components"]] == ["Web", "API"]
    assert token_client(vera).patch(group_url(group), {"name": "X"}).status_code == 403
    renamed = client.patch(group_url(group), {"name": "Platform", "position": 5}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Platform"
    assert client.post(GROUPS, {"name": "platform"}, format="json").status_code == 409
    assert client.patch(group_url(group), {"components": []}, format="json").status_code == 400
    assert client.delete(group_url(group)).status_code == 204
    # Its components stay, ungrouped.
    assert set(Component.objects.values_list("group", flat=True)) == {None}
    assert [g["name"] for g in client.get(GROUPS).json()] == []
