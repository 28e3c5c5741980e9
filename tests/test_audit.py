"""The audit log of managers' changes: written by the service in the change's
own transaction, marked with the entry point it came through, read by
managers in the admin and at ``GET /api/v1/audit/``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents import audit
from incidents.models import AuditEntry, EntryPoint
from incidents.services.integrations import integration_create, integration_update
from tests.admin_support import change_integration
from tests.api_support import API, assert_json_error, token_client

pytestmark = pytest.mark.django_db

AUDIT = f"{API}/audit/"


@pytest.fixture
def integration(alice):
    made, _ = integration_create(actor=alice, name="prom", kind="generic")
    return made


def entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def test_a_change_through_the_api_is_logged_with_only_what_changed(alice, integration):
    response = token_client(alice).patch(
        f"{API}/integrations/{integration.pk}/",
        {"enabled": False, "name": "prom"},
        format="json",
    )
    assert response.status_code == 200, response.content
    [entry] = entries(action="integration_update")
    assert entry.actor == alice
    assert entry.actor_name == "alice"
    assert entry.entry_point == EntryPoint.API
    assert entry.object_type == "integration"
    assert entry.object_id == str(integration.pk)
    assert entry.before == {"enabled": True}
    assert entry.after == {"enabled": False}


def test_the_same_change_in_the_admin_is_logged_as_the_admin(client_for, alice, integration):
    response = change_integration(client_for(alice), integration, rate_limit_per_minute=60)
    assert response.status_code == 302, response.content[:500]
    [entry] = entries(action="integration_update")
    assert entry.entry_point == EntryPoint.ADMIN
    assert entry.before == {"rate_limit_per_minute": 1200}
    assert entry.after == {"rate_limit_per_minute": 60}


def test_a_refused_change_writes_no_audit_row(alice, integration):
    response = token_client(alice).patch(
        f"{API}/integrations/{integration.pk}/", {"severity_mapping": [1]}, format="json"
    )
    assert_json_error(response, 400)
    assert entries(action="integration_update") == []


def test_a_change_that_changes_nothing_writes_nothing(alice, integration):
    integration_update(actor=alice, integration=integration, name="prom", enabled=True)
    assert entries(action="integration_update") == []


def test_outside_a_request_a_change_comes_from_the_command_line_or_a_task(alice, integration):
    integration_update(actor=alice, integration=integration, enabled=False)
    with audit.via(EntryPoint.TASK):
        integration_update(actor=None, integration=integration, enabled=True)
    first, second = entries(action="integration_update")
    assert (first.entry_point, first.actor_name) == (EntryPoint.COMMAND, "alice")
    assert (second.entry_point, second.actor, second.actor_name) == (EntryPoint.TASK, None, "")


def test_deleting_keeps_the_id_and_what_it_was(alice, integration):
    response = token_client(alice).delete(f"{API}/integrations/{integration.pk}/")
    assert response.status_code == 204, response.content
    [entry] = entries(action="integration_delete")
    assert entry.object_id == str(integration.pk)
    assert entry.before["name"] == "prom"
    assert entry.after is None


def test_the_log_is_append_only(alice, integration):
    entry = entries(action="integration_create")[0]
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(action="x")


def test_managers_read_the_log_filtered_by_object_and_person(alice, bob, integration):
    other, _ = integration_create(actor=alice, name="dd", kind="datadog")
    integration_update(actor=alice, integration=integration, enabled=False)
    client = token_client(alice, "read")

    body = client.get(AUDIT, {"object_type": "integration", "object_id": integration.pk}).json()
    assert [e["action"] for e in body["results"]] == ["integration_update", "integration_create"]
    assert body["results"][0]["actor"] == "alice"
    assert body["results"][0]["before"] == {"enabled": True}

    assert client.get(AUDIT, {"actor": "bob"}).json()["count"] == 0
    mine = {"actor": "alice", "object_type": "integration"}  # not the token made above
    assert client.get(AUDIT, mine).json()["count"] == 3
    assert (
        client.get(AUDIT, {"object_id": other.pk, "object_type": "integration"}).json()["count"]
        == 1
    )
    assert_json_error(client.get(AUDIT, {"entry_point": "telepathy"}), 400)
    assert_json_error(client.get(AUDIT, {"since": "yesterday"}), 400)


def test_only_managers_read_the_log(bob, vera, integration, client):
    assert_json_error(token_client(bob, "read").get(AUDIT), 403)
    assert_json_error(token_client(vera, "read").get(AUDIT), 403)
    assert_json_error(client.get(AUDIT), 401)


def test_managers_read_one_objects_history_in_the_admin(client_for, alice, bob, integration):
    integration_update(actor=alice, integration=integration, name="prometheus")
    admin = client_for(alice)
    url = reverse("admin:incidents_auditentry_changelist")
    page = admin.get(url, {"object_type": "integration", "object_id": integration.pk})
    assert page.status_code == 200
    shown = [e.action for e in page.context["cl"].result_list]
    assert shown == ["integration_update", "integration_create"]
    assert "prometheus" in page.content.decode()
    by_alice = admin.get(url, {"actor__id__exact": alice.pk}).context["cl"].result_list
    assert len(by_alice) == 2
    assert list(admin.get(url, {"actor__id__exact": bob.pk}).context["cl"].result_list) == []
    assert admin.get(reverse("admin:incidents_auditentry_add")).status_code == 403


def test_people_who_are_not_managers_do_not_see_the_log_in_the_admin(client_for, bob):
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    page = client_for(bob).get(reverse("admin:incidents_auditentry_changelist"))
    assert page.status_code == 403
