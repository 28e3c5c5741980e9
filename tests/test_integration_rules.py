"""One rule, every entry point, for integrations (issue 10, item 3): the API's
create and PATCH and the admin's add and change all go through
``incidents.services.integrations``, so they refuse alike, naming the field,
with nothing written; an integration with alerts is never deleted (409 / the
admin's refusal)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from incidents.errors import DomainError
from incidents.models import Alert, AuditEntry, Integration
from incidents.services.integrations import integration_create, integration_update
from tests.admin_support import add_integration, change_integration
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


def refused_fields(outcome) -> set[str]:
    """The fields a refusal names: a DomainError's, the API's, an admin form's."""
    if isinstance(outcome, DomainError):
        return {outcome.field}
    if outcome["Content-Type"].startswith("application/json"):
        return set(assert_json_error(outcome, 400)["errors"])
    assert outcome.status_code == 200  # the form, shown again
    return set(outcome.context["adminform"].form.errors)


def drive(entry: str, client, alice, integration: Integration, change: dict):
    if entry == "api_create":
        body = {"name": "x", "kind": "generic", **change}
        return client.post(f"{API}/integrations/", body, content_type="application/json")
    if entry == "api_update":
        url = f"{API}/integrations/{integration.pk}/"
        return client.patch(url, change, content_type="application/json")
    if entry == "admin_add":
        return add_integration(client, **change)
    if entry == "admin_change":
        return change_integration(client, integration, **change)
    with pytest.raises(DomainError) as refused:
        integration_update(actor=alice, integration=integration, **change)
    return refused.value


# What an entry point cannot express: a new integration may be of any
# kind, and the admin shows the kind read-only once created and picks the
# default service from a list of existing ones.
CANNOT_SAY = {
    "kind": {"api_create", "admin_add", "admin_change"},
    "default_service": {"admin_add", "admin_change"},
}
ENTRIES = ["api_create", "api_update", "admin_add", "admin_change", "service"]


@pytest.mark.parametrize(
    ("entry", "change", "field"),
    [
        pytest.param(entry, change, field, id=f"{entry}-{field}-{i}")
        for i, (change, field) in enumerate(BAD_CHANGES)
        for entry in ENTRIES
        if entry not in CANNOT_SAY.get(field, ())
    ],
)
def test_a_bad_integration_setting_is_refused_everywhere(
    client_for, alice, integration, entry, change, field
):
    client = client_for(alice)  # the API answers a manager's session too
    before = (list(Integration.objects.values()), AuditEntry.objects.count())

    outcome = drive(entry, client, alice, integration, change)

    assert field in refused_fields(outcome)
    assert (list(Integration.objects.values()), AuditEntry.objects.count()) == before


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
    response = change_integration(
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
