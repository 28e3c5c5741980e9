"""``/api/v1/maintenances/``: viewers read, responders schedule, edit,
post updates and delete; errors name the field (400 / 404 / 409)."""

from __future__ import annotations

import pytest

from incidents.models import AuditEntry, EntryPoint
from statuspage.models import ComponentStatus, Maintenance
from tests.api_support import API, token_client
from tests.engine_support import T0
from tests.sp_maint_support import HOUR, component, rows, schedule, statuses

pytestmark = pytest.mark.django_db

URL = f"{API}/maintenances/"
START_AT = T0 + 24 * HOUR
FIELDS = {
    "id",
    "name",
    "status",
    "scheduled_for",
    "scheduled_until",
    "components",
    "auto_transition",
    "counts_as_downtime",
    "started_at",
    "resolved_at",
    "updates",
    "created_at",
    "updated_at",
}


@pytest.fixture
def web(alice):
    return component(alice, "Website")


def body(web, **fields) -> dict:
    return {
        "name": "Database upgrade",
        "scheduled_for": START_AT.isoformat(),
        "scheduled_until": (START_AT + 2 * HOUR).isoformat(),
        "components": [web.code],
        "message": "We are upgrading the primary database.",
        **fields,
    }


def test_a_responder_schedules(frozen, api, web):
    response = api.post(URL, body(web), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == FIELDS
    assert data["status"] == "scheduled" and data["components"] == [web.code]
    assert data["auto_transition"] is True and data["counts_as_downtime"] is False
    assert data["scheduled_for"] == "2026-11-26T10:00:00Z"
    (update,) = data["updates"]
    assert update["status"] == "scheduled"
    assert update["body"] == "We are upgrading the primary database."
    m = Maintenance.objects.get(code=data["id"])
    assert set(rows(m)) == {"maint_remind", "maint_start", "maint_end"}
    assert AuditEntry.objects.get(action="maintenance_schedule").entry_point == EntryPoint.API


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"message": " "}, "message"),
        ({"scheduled_until": START_AT.isoformat()}, "scheduled_until"),
        ({"scheduled_for": "soon"}, "scheduled_for"),
        ({"components": ["nope"]}, "components"),
        ({"components": "nope"}, "components"),
        ({"auto_transition": "maybe"}, "auto_transition"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(frozen, api, web, fields, field):
    response = api.post(URL, body(web, **fields), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Maintenance.objects.exists()


def test_a_missing_field_is_a_400(frozen, api, web):
    data = body(web)
    del data["message"]
    response = api.post(URL, data, format="json")
    assert response.status_code == 400
    assert "message" in response.json()["errors"]


def test_viewers_read_and_do_not_write(frozen, bob, vera, web):
    m = schedule(bob, START_AT, components=[web])
    viewer = token_client(vera)
    listed = viewer.get(URL)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["results"]] == [m.code]
    assert viewer.get(f"{URL}{m.code}/").json()["name"] == "Database upgrade"
    assert viewer.post(URL, body(web), format="json").status_code == 403
    assert viewer.patch(f"{URL}{m.code}/", {"name": "x"}, format="json").status_code == 403
    assert viewer.delete(f"{URL}{m.code}/").status_code == 403
    assert (
        viewer.post(f"{URL}{m.code}/updates/", {"status": "completed", "body": "x"}).status_code
        == 403
    )


def test_people_with_no_group_read_nothing(frozen, charlie):
    assert token_client(charlie).get(URL).status_code == 403


def test_a_read_token_does_not_write(frozen, bob, web):
    reader = token_client(bob, "read")
    assert reader.get(URL).status_code == 200
    assert reader.post(URL, body(web), format="json").status_code == 403


def test_anonymous_is_refused(frozen, client):
    assert client.get(URL).status_code in (401, 403)


def test_unknown_id_is_a_404(frozen, api):
    assert api.get(f"{URL}nosuchthing1/").status_code == 404
    assert api.post(f"{URL}nosuchthing1/updates/", {"status": "completed"}).status_code == 404


def test_reschedule_by_patch(frozen, api, bob, web):
    m = schedule(bob, START_AT, components=[web])
    later = START_AT + 24 * HOUR
    response = api.patch(
        f"{URL}{m.code}/",
        {"scheduled_for": later.isoformat(), "scheduled_until": (later + HOUR).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["scheduled_for"] == "2026-11-27T10:00:00Z"
    assert data["updates"][0]["body"].startswith("Rescheduled:")
    assert rows(m)["maint_start"] == later


def test_patch_components_and_flags(frozen, api, alice, bob, web):
    other = component(alice, "API")
    m = schedule(bob, START_AT, components=[web])
    response = api.patch(
        f"{URL}{m.code}/",
        {"components": [other.code], "counts_as_downtime": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["components"] == [other.code]
    assert response.json()["counts_as_downtime"] is True


def test_post_updates_through_the_guide(frozen, api, bob, web):
    m = schedule(bob, START_AT, components=[web])
    url = f"{URL}{m.code}/updates/"
    response = api.post(url, {"status": "in_progress", "body": "Starting."}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "in_progress"
    assert response.json()["affected_components"] == [
        {
            "code": web.code,
            "name": "Website",
            "old_status": "operational",
            "new_status": "under_maintenance",
        }
    ]
    assert statuses(web) == [ComponentStatus.UNDER_MAINTENANCE]
    done = api.post(url, {"status": "completed", "body": "Done."}, format="json")
    assert done.status_code == 201
    assert statuses(web) == [ComponentStatus.OPERATIONAL]
    again = api.post(url, {"status": "in_progress", "body": "Again?"}, format="json")
    assert again.status_code == 409
    assert "status" in again.json()["errors"]


def test_post_update_shape_errors(frozen, api, bob):
    m = schedule(bob, START_AT)
    url = f"{URL}{m.code}/updates/"
    response = api.post(url, {"status": "resolved", "body": "x"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["errors"]
    response = api.post(url, {"status": "in_progress", "body": ""}, format="json")
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_delete_an_upcoming_one_but_not_a_started_one(frozen, api, bob):
    upcoming = schedule(bob, START_AT)
    assert api.delete(f"{URL}{upcoming.code}/").status_code == 204
    assert not Maintenance.objects.filter(pk=upcoming.pk).exists()
    started = schedule(bob, START_AT, name="Started")
    api.post(f"{URL}{started.code}/updates/", {"status": "in_progress", "body": "Go."})
    response = api.delete(f"{URL}{started.code}/")
    assert response.status_code == 409 and "status" in response.json()["errors"]


def test_put_is_not_offered(frozen, api, bob, web):
    m = schedule(bob, START_AT)
    assert api.put(f"{URL}{m.code}/", body(web), format="json").status_code == 405


def test_the_list_reads_in_a_constant_number_of_queries(
    frozen, api, bob, web, django_assert_max_num_queries
):
    for n in range(5):
        schedule(bob, START_AT + n * HOUR, components=[web], name=f"M{n}")
    with django_assert_max_num_queries(10):
        response = api.get(URL)
    assert response.json()["count"] == 5


def test_the_schema_documents_the_maintenance_routes(alice):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths[f"{API}/maintenances/"]) >= {"get", "post"}
    assert set(paths[f"{API}/maintenances/{{id}}/"]) >= {"get", "patch", "delete"}
    assert "put" not in paths[f"{API}/maintenances/{{id}}/"]
    assert set(paths[f"{API}/maintenances/{{id}}/updates/"]) >= {"post"}
    status = schema["components"]["schemas"]["MaintenanceStatusEnum"]
    assert status["enum"] == ["scheduled", "in_progress", "verifying", "completed"]
