"""One validator per rule for integrations: the API's create and PATCH and the
admin's add and change all go through incidents.tokens, so they refuse alike;
an integration with alerts is never deleted (409 / the admin's refusal)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from incidents.models import Alert, Integration
from incidents.services.integrations import integration_create
from tests.api_support import API, assert_json_error, token_client

pytestmark = pytest.mark.django_db

BAD_CHANGES = [
    ({"severity_mapping": [1, 2]}, "severity_mapping"),
    ({"severity_mapping": {"critical": "P9"}}, "severity_mapping"),
    ({"severity_mapping": {"critical": ["P0"]}}, "severity_mapping"),
    ({"default_service": "s" * 101}, "default_service"),
    ({"name": "n" * 101}, "name"),
    ({"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ({"kind": "sentry"}, "kind"),
]


@pytest.fixture
def integration(alice):
    made, key = integration_create(
        actor=alice, name="prom", kind="generic", severity_mapping={"sev1": "P1"}
    )
    made.key = key
    return made


def send_alert(client, key: str, **fields):
    body = {"title": "Checkout 5xx", "status": "firing", "dedup_key": "k1", **fields}
    return client.post(
        f"/api/v1/integrations/{key}/generic/",
        data=json.dumps(body),
        content_type="application/json",
    )


def admin_change(client, integration: Integration, **changes):
    data = {
        "name": integration.name,
        "default_service": "",
        "severity_mapping": json.dumps(integration.severity_mapping),
        "auto_acknowledge": "on",
        "auto_resolve": "on",
        "enabled": "on",
        "rate_limit_per_minute": integration.rate_limit_per_minute,
    }
    for field, value in changes.items():
        data[field] = json.dumps(value) if field == "severity_mapping" else value
    return client.post(reverse("admin:incidents_integration_change", args=[integration.pk]), data)


@pytest.mark.parametrize(("change", "field"), BAD_CHANGES)
def test_api_patch_refuses_what_create_refuses(alice, integration, change, field):
    api = token_client(alice)
    before = Integration.objects.values().get(pk=integration.pk)
    body = assert_json_error(
        api.patch(f"{API}/integrations/{integration.pk}/", change, format="json"), 400
    )
    assert field in body["errors"], body
    assert Integration.objects.values().get(pk=integration.pk) == before
    created = api.post(
        f"{API}/integrations/", {"name": "x", "kind": "generic", **change}, format="json"
    )
    if field != "kind":
        assert created.status_code == 400 and field in created.json()["errors"]


@pytest.mark.parametrize(
    ("change", "field"), [c for c in BAD_CHANGES if c[1] not in ("kind", "default_service")]
)
def test_admin_change_refuses_what_the_api_refuses(client, alice, integration, change, field):
    client.force_login(alice)
    before = Integration.objects.values().get(pk=integration.pk)
    response = admin_change(client, integration, **change)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Integration.objects.values().get(pk=integration.pk) == before


def test_alerts_keep_flowing_after_a_refused_mapping(client, alice, integration):
    token_client(alice).patch(
        f"{API}/integrations/{integration.pk}/", {"severity_mapping": [1, 2]}, format="json"
    )
    assert send_alert(client, integration.key, severity="sev1").status_code == 202
    assert Alert.objects.get().incident.severity == "P1"


def test_api_patch_applies_good_changes_through_the_service(alice, integration):
    api = token_client(alice)
    response = api.patch(
        f"{API}/integrations/{integration.pk}/",
        {"severity_mapping": {" Sev2 ": "P2"}, "default_service": " Checkout ", "enabled": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["severity_mapping"] == {"sev2": "P2"}
    assert response.json()["default_service"] == "checkout"
    integration.refresh_from_db()
    assert integration.enabled is False and integration.severity_mapping == {"sev2": "P2"}


def test_admin_change_saves_good_changes(client, alice, integration):
    client.force_login(alice)
    response = admin_change(
        client, integration, severity_mapping={"Sev3": "P3"}, rate_limit_per_minute=60
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    integration.refresh_from_db()
    assert integration.severity_mapping == {"sev3": "P3"}
    assert integration.rate_limit_per_minute == 60


def test_deleting_an_integration_with_alerts_answers_409_and_keeps_it(client, alice, integration):
    assert send_alert(client, integration.key).status_code == 202
    body = assert_json_error(
        token_client(alice).delete(f"{API}/integrations/{integration.pk}/"), 409
    )
    assert "disable it instead" in body["detail"]
    assert Integration.objects.filter(pk=integration.pk).exists()


def test_deleting_an_integration_without_alerts_works(alice, integration):
    response = token_client(alice).delete(f"{API}/integrations/{integration.pk}/")
    assert response.status_code == 204
    assert not Integration.objects.filter(pk=integration.pk).exists()


def test_admin_refuses_to_delete_an_integration_with_alerts(client, alice, integration):
    assert send_alert(client, integration.key).status_code == 202
    client.force_login(alice)
    page = reverse("admin:incidents_integration_delete", args=[integration.pk])
    response = client.post(page, {"post": "yes"})
    assert response.status_code == 200
    assert b"Cannot delete integration" in response.content
    bulk = client.post(
        reverse("admin:incidents_integration_changelist"),
        {"action": "delete_selected", "_selected_action": [integration.pk], "post": "yes"},
    )
    assert bulk.status_code == 200
    assert Integration.objects.filter(pk=integration.pk).exists()
