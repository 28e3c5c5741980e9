"""Publishing through the API (POST /api/v1/incidents/<ref>/publish/), the
public incidents (/api/v1/public-incidents/) and public updates, both
there and through the internal incident's updates endpoint."""

from __future__ import annotations

import json

import pytest

from incidents import services as incident_services
from incidents.models import EventKind, TimelineEvent
from statuspage.models import Component, ComponentStatusChange, PublicIncident, PublicUpdate
from tests import factories
from tests import statuspage_support as sp
from tests.api_support import incident_url, token_client
from tests.statuspage_support import (
    PUBLIC_INCIDENTS,
    make_comms_lead,
    make_component,
    public_url,
    publish_url,
    statuses,
    version,
)

pytestmark = pytest.mark.django_db
# Shared fixtures (tests/statuspage_support.py).
api_component, comms, published = sp.api_component, sp.comms, sp.published

PUBLIC_KEYS = {
    "id",
    "name",
    "status",
    "impact",
    "url",
    "created_at",
    "updated_at",
    "started_at",
    "monitoring_at",
    "resolved_at",
    "updates",
    "components",
}
SECRETS = ("Checkout API returning 500s", "Error rate 3% on /checkout", "Some customers cannot pay")


def body(**fields) -> dict:
    return {
        "title": "Payments are failing",
        "impact": "major",
        "message": "We are looking into failed payments.",
        **fields,
    }


def test_comms_lead_publishes(incident, comms, api_component):
    before = version()
    response = token_client(comms).post(
        publish_url(incident.ref),
        body(components=[{"id": api_component.code, "status": "partial_outage"}]),
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == PUBLIC_KEYS
    public = PublicIncident.objects.get(incident=incident)
    assert data["id"] == public.code
    assert data["url"] == f"https://status.treebeard.com/incidents/{public.code}"
    assert (data["name"], data["impact"], data["status"]) == (
        "Payments are failing",
        "major",
        "investigating",
    )
    assert [u["body"] for u in data["updates"]] == ["We are looking into failed payments."]
    assert data["components"] == [
        {"id": api_component.code, "name": "API", "status": "partial_outage"}
    ]
    assert data["updates"][0]["affected_components"] == [
        {
            "code": api_component.code,
            "name": "API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    # Nothing internal in what the public will see, nor the internal ref.
    text = json.dumps(data)
    for secret in (*SECRETS, incident.ref):
        assert secret not in text
    assert TimelineEvent.objects.filter(incident=incident, kind=EventKind.PUBLISHED).exists()
    assert version() > before


def test_lowercase_ref_and_unknown_ref(incident, alice):
    client = token_client(alice)
    assert client.post(publish_url("INC-20000101-999"), body(), format="json").status_code == 404
    response = client.post(publish_url(incident.ref.lower()), body(), format="json")
    assert response.status_code == 201, response.content


def test_who_may_publish(incident, bob, vera, alice):
    """bob declared it but holds no role: he may not speak for it; a viewer
    never; the commander and a manager may."""
    assert (
        token_client(bob).post(publish_url(incident.ref), body(), format="json").status_code == 403
    )
    assert (
        token_client(vera).post(publish_url(incident.ref), body(), format="json").status_code == 403
    )
    assert not PublicIncident.objects.exists()
    carol = factories.responder("carol")
    incident_services.incident_assign_role(
        incident=incident, actor=alice, role="commander", user=carol
    )
    response = token_client(carol).post(publish_url(incident.ref), body(), format="json")
    assert response.status_code == 201, response.content


def test_drill_and_twice_are_conflicts(bob, alice):
    drill = factories.declare(actor=bob, is_drill=True)
    client = token_client(alice)
    response = client.post(publish_url(drill.ref), body(), format="json")
    assert response.status_code == 409
    assert "drill" in response.json()["detail"]
    real = factories.declare(actor=bob)
    assert client.post(publish_url(real.ref), body(), format="json").status_code == 201
    again = client.post(publish_url(real.ref), body(), format="json")
    assert again.status_code == 409
    assert PublicIncident.objects.count() == 1 and PublicUpdate.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"impact": "catastrophic"}, "impact"),
        ({"title": ""}, "title"),
        ({"message": " "}, "message"),
        ({"components": [{"id": "nosuchthing1", "status": "major_outage"}]}, "components"),
        ({"components": [{"id": "x", "status": "on_fire"}]}, "components"),
        ({"components": "all"}, "components"),
    ],
)
def test_publish_refusals_name_the_field(incident, alice, fields, field):
    make_component(alice, "API")
    response = token_client(alice).post(publish_url(incident.ref), body(**fields), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not PublicIncident.objects.exists()
    assert set(Component.objects.values_list("status", flat=True)) == {"operational"}


def test_public_incidents_are_read_by_viewers(published, vera, charlie):
    client = token_client(vera, "read")
    listed = client.get(PUBLIC_INCIDENTS)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["results"]] == [published.code]
    one = client.get(public_url(published))
    assert one.status_code == 200 and set(one.json()) == PUBLIC_KEYS
    assert len(client.get(public_url(published, "updates")).json()) == 1
    assert token_client(charlie).get(PUBLIC_INCIDENTS).status_code == 403
    assert client.get(f"{PUBLIC_INCIDENTS}nosuchthing1/").status_code == 404


def test_comms_lead_posts_updates_through_resolution(published, comms, api_component, alice):
    client = token_client(comms)
    url = public_url(published, "updates")
    monitoring = client.post(
        url,
        {
            "status": "monitoring",
            "body": "A fix is out.",
            "components": [{"id": api_component.code, "status": "degraded_performance"}],
        },
        format="json",
    )
    assert monitoring.status_code == 201, monitoring.content
    assert monitoring.json()["monitoring_at"] is not None
    api_component.refresh_from_db()
    assert api_component.status == "degraded_performance"
    # The internal incident is resolved first; its comms lead then tells the public.
    incident_services.incident_resolve(
        incident=published.incident, actor=alice, root_cause="A bad deploy"
    )
    resolved = client.post(url, {"status": "resolved", "body": "All good."}, format="json")
    assert resolved.status_code == 201, resolved.content
    data = resolved.json()
    assert data["status"] == "resolved" and data["resolved_at"] is not None
    assert [u["status"] for u in data["updates"]] == ["resolved", "monitoring", "investigating"]
    api_component.refresh_from_db()
    assert api_component.status == "operational"  # this incident degraded it
    assert ComponentStatusChange.objects.filter(
        component=api_component, incident=published, new_status="operational"
    ).exists()


def test_update_refusals(published, bob, alice):
    url = public_url(published, "updates")
    # bob holds no role on the incident.
    refused = token_client(bob).post(url, {"status": "identified", "body": "x"}, format="json")
    assert refused.status_code == 403
    client = token_client(alice)
    bad = client.post(url, {"status": "postmortem", "body": "x"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    empty = client.post(url, {"status": "identified", "body": ""}, format="json")
    assert empty.status_code == 400 and "body" in empty.json()["errors"]
    assert PublicUpdate.objects.count() == 1


def test_patch_name_and_impact(published, comms, bob):
    client = token_client(comms)
    response = client.patch(
        public_url(published), {"name": "Checkout errors", "impact": "critical"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["impact"]) == ("Checkout errors", "critical")
    bad = client.patch(public_url(published), {"impact": "huge"}, format="json")
    assert bad.status_code == 400 and "impact" in bad.json()["errors"]
    blank = client.patch(public_url(published), {"name": ""}, format="json")
    assert blank.status_code == 400 and "name" in blank.json()["errors"]
    assert (
        client.patch(public_url(published), {"status": "resolved"}, format="json").status_code
        == 400
    )
    assert (
        token_client(factories.responder("dan"))
        .patch(public_url(published), {"name": "x"}, format="json")
        .status_code
        == 403
    )


# --- public updates posted on the internal incident ------------------------------------


def test_public_update_on_a_published_incident_reaches_the_page(published, alice, api_component):
    response = token_client(alice).post(
        incident_url(published.incident.ref, "updates"),
        {
            "message": "We found the cause.",
            "status": "identified",
            "visibility": "public",
            "components": [{"id": api_component.code, "status": "partial_outage"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    update = PublicUpdate.objects.filter(incident=published).first()
    assert (update.status, update.body) == ("identified", "We found the cause.")
    assert update.source_update_id == response.json().get("id", update.source_update_id)
    published.refresh_from_db()
    api_component.refresh_from_db()
    assert published.status == "identified"
    assert api_component.status == "partial_outage"


def test_public_update_with_components_before_publishing_is_a_conflict(incident, alice):
    api = make_component(alice, "API")
    client = token_client(alice)
    components = statuses((api, "major_outage"))
    response = client.post(
        incident_url(incident.ref, "updates"),
        {"message": "Down", "visibility": "public", "components": components},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert "components" in response.json()["errors"]
    assert not incident.updates.exists()
    api.refresh_from_db()
    assert api.status == "operational"
    # Without components it is kept for later: nothing public yet.
    plain = client.post(
        incident_url(incident.ref, "updates"),
        {"message": "Down", "visibility": "public"},
        format="json",
    )
    assert plain.status_code == 201
    assert not PublicIncident.objects.exists() and not PublicUpdate.objects.exists()


def test_internal_update_with_components_is_refused(published, alice, api_component):
    response = token_client(alice).post(
        incident_url(published.incident.ref, "updates"),
        {"message": "Note", "components": statuses((api_component, "operational"))},
        format="json",
    )
    assert response.status_code == 400
    assert "components" in response.json()["errors"]
    assert PublicUpdate.objects.filter(incident=published).count() == 1


def test_make_comms_lead_helper_keeps_roles_single(incident, bob, alice):
    carol = factories.responder("carol")
    make_comms_lead(incident, bob, by=alice)
    make_comms_lead(incident, carol, by=alice)
    assert (
        token_client(bob).post(publish_url(incident.ref), body(), format="json").status_code == 403
    )
    assert (
        token_client(carol).post(publish_url(incident.ref), body(), format="json").status_code
        == 201
    )
