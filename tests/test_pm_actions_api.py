"""``/api/v1/action-items/``: the same rules as the services (an unknown
owner is a 400 naming ``owner``), viewers read and responders write, the
filters (owner, status, overdue), and the admin's list and forms."""

from __future__ import annotations

from datetime import timedelta

import pytest

from postmortems.models import ActionItem
from tests.admin_support import form_errors, signed_in, url
from tests.api_support import token_client
from tests.pm_actions_values import TODAY

pytest_plugins = ["tests.pm_actions_support"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

ITEMS = "/api/v1/action-items/"
FIELDS = {
    "id",
    "postmortem",
    "title",
    "owner",
    "due_date",
    "priority",
    "status",
    "kind",
    "ticket_url",
    "ticket_state",
}


def new(of, **fields) -> dict:
    return {
        "postmortem": of.pk,
        "title": "Alert when the pool is 80 % used",
        "owner": "bob",
        "due_date": (TODAY + timedelta(days=7)).isoformat(),
        "kind": "monitoring",
        **fields,
    }


def test_a_responder_adds_an_item_and_gets_it_back(postmortem, bob):
    response = token_client(bob).post(ITEMS, new(postmortem), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= FIELDS
    assert body["owner"] == "bob" and body["postmortem"] == postmortem.pk
    assert (body["priority"], body["status"], body["kind"]) == ("medium", "open", "monitoring")
    assert (body["ticket_url"], body["ticket_state"]) == ("", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"owner": "nobody"}, "owner"),
        ({"title": "  "}, "title"),
        ({"due_date": (TODAY - timedelta(days=1)).isoformat()}, "due_date"),
        ({"due_date": "next week"}, "due_date"),
        ({"priority": "urgent"}, "priority"),
        ({"ticket_url": "javascript:alert(1)"}, "ticket_url"),
        ({"postmortem": 999}, "postmortem"),
    ],
)
def test_a_broken_rule_is_a_400_naming_the_field(postmortem, bob, change, field):
    response = token_client(bob).post(ITEMS, new(postmortem, **change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not ActionItem.objects.exists()


def test_viewers_read_and_never_write(postmortem, item, vera, bob):
    viewer = token_client(vera)
    assert viewer.get(ITEMS).status_code == 200
    assert viewer.post(ITEMS, new(postmortem), format="json").status_code == 403
    assert viewer.patch(f"{ITEMS}{item.pk}/", {"status": "done"}, format="json").status_code == 403
    reader = token_client(bob, "read")
    assert reader.post(ITEMS, new(postmortem), format="json").status_code == 403


def test_patch_and_delete(item, bob):
    api = token_client(bob)
    response = api.patch(
        f"{ITEMS}{item.pk}/",
        {"status": "done", "due_date": (TODAY - timedelta(days=3)).isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done" and response.json()["done_at"]
    refused = api.patch(f"{ITEMS}{item.pk}/", {"owner": "ghost"}, format="json")
    assert refused.status_code == 400 and "owner" in refused.json()["errors"]
    assert api.delete(f"{ITEMS}{item.pk}/").status_code == 204
    assert not ActionItem.objects.exists()


def test_the_filters_owner_status_and_overdue(postmortem, item, alice, bob, later):
    api = token_client(bob)
    api.post(ITEMS, new(postmortem, owner="alice", status="in_progress"), format="json")
    titles = lambda query: [i["title"] for i in api.get(ITEMS + query).json()["results"]]  # noqa: E731
    assert titles("?owner=alice") == ["Alert when the pool is 80 % used"]
    assert titles("?status=open") == [item.title]
    assert titles("?overdue=true") == []
    later(days=3)  # item was due on the 27th: overdue from the 28th
    assert titles("?overdue=true") == [item.title]
    assert api.get(f"{ITEMS}{item.pk}/").json()["overdue"] is True
    assert len(titles(f"?postmortem={postmortem.pk}")) == 2


def test_the_schema_documents_the_action_items_and_trackers(alice):
    client = signed_in(alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/action-items/"]) >= {"get", "post"}
    assert set(paths["/api/v1/action-items/{id}/"]) >= {"get", "patch", "delete"}
    assert "post" in paths["/api/v1/action-items/{id}/create-ticket/"]
    assert "202" in paths["/api/v1/action-items/{id}/create-ticket/"]["post"]["responses"]
    assert set(paths["/api/v1/trackers/{id}/"]) >= {"get", "patch", "delete"}
    params = {p["name"] for p in paths["/api/v1/action-items/"]["get"]["parameters"]}
    assert {"owner", "status", "overdue"} <= params
    tracker = schema["components"]["schemas"]["Tracker"]
    assert "token" not in tracker["properties"]  # write-only: only in the request


# --- the admin ---------------------------------------------------------------------


def test_the_admin_lists_items_with_owner_due_date_status_and_an_overdue_filter(item, alice, later):
    client = signed_in(alice)
    later(days=3)
    page = client.get(url(ActionItem, "changelist") + "?overdue=yes")
    assert page.status_code == 200
    assert item.title in page.content.decode()
    assert client.get(url(ActionItem, "changelist") + "?overdue=no").context["cl"].result_count == 0


def test_the_admin_saves_through_the_service_and_shows_its_refusal_beside_the_field(
    postmortem, alice, bob
):
    client = signed_in(alice)
    data = {
        "postmortem": postmortem.pk,
        "title": "Alert on the pool",
        "owner": bob.pk,
        "due_date": (TODAY - timedelta(days=2)).isoformat(),
        "priority": "high",
        "kind": "monitoring",
        "status": "open",
        "ticket_url": "",
    }
    refused = client.post(url(ActionItem, "add"), data)
    assert "due_date" in form_errors(refused)
    assert not ActionItem.objects.exists()

    data["due_date"] = TODAY.isoformat()
    saved = client.post(url(ActionItem, "add"), data)
    assert saved.status_code == 302, form_errors(saved)
    item = ActionItem.objects.get()
    assert (item.owner, item.priority) == (bob, "high")
    assert item.pk  # and its promises were written by the service
    changed = client.post(url(ActionItem, "change", item.pk), {**data, "status": "done"})
    assert changed.status_code == 302
    item.refresh_from_db()
    assert item.done_at is not None
