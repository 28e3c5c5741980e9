"""Actions on an incident through the REST API (acknowledge, escalate,
resolve, reopen, roles, updates, timeline), with real tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils.dateparse import parse_datetime

from incidents.models import EventKind, Incident, StatusUpdate, TimelineEvent
from tests.api_support import assert_json_error, declare, incident_url, kinds

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

# --- actions --------------------------------------------------------------------


def test_acknowledging_twice_is_409(api):
    ref = declare(api)["ref"]
    assert api.post(incident_url(ref, "acknowledge")).status_code == 200
    body = assert_json_error(api.post(incident_url(ref, "acknowledge")), 409)
    assert "already acknowledged" in body["detail"]


def test_escalate_requires_a_reason(staffed, api):
    ref = declare(api)["ref"]
    body = assert_json_error(
        api.post(incident_url(ref, "escalate"), {"reason": ""}, format="json"), 400
    )
    assert "reason" in body["errors"]
    assert Incident.objects.get(ref=ref).escalation_level == 1


def test_p1_escalation_stops_at_l3(staffed, api):
    ref = declare(api, severity="P1")["ref"]
    url = incident_url(ref, "escalate")
    levels = [
        api.post(url, {"reason": "No progress"}, format="json").json()["escalation_level"]
        for _ in range(2)
    ]
    assert levels == [2, 3]
    body = assert_json_error(api.post(url, {"reason": "No progress"}, format="json"), 409)
    assert "L3" in body["detail"]
    assert Incident.objects.get(ref=ref).escalation_level == 3
    event = TimelineEvent.objects.filter(incident__ref=ref, kind=EventKind.ESCALATED).first()
    assert event.message == "No progress" and event.after == {"escalation_level": 3}


def test_p0_escalation_reaches_l4(staffed, api):
    ref = declare(api, severity="P0")["ref"]
    url = incident_url(ref, "escalate")
    for _ in range(3):
        api.post(url, {"reason": "Customers still down"}, format="json")
    assert Incident.objects.get(ref=ref).escalation_level == 4
    assert_json_error(api.post(url, {"reason": "Again"}, format="json"), 409)


def test_resolve_without_root_cause_is_400_and_changes_nothing(api):
    ref = declare(api)["ref"]
    before = kinds(ref)
    body = assert_json_error(
        api.post(incident_url(ref, "resolve"), {"resolution": "Restarted"}, format="json"), 400
    )
    assert list(body["errors"]) == ["root_cause"]
    incident = Incident.objects.get(ref=ref)
    assert (incident.status, incident.resolved_at, incident.resolution) == (
        "investigating",
        None,
        "",
    )
    assert kinds(ref) == before


def test_resolve_as_false_positive(api):
    ref = declare(api)["ref"]
    body = api.post(
        incident_url(ref, "resolve"),
        {"root_cause": "Flapping probe", "false_positive": True},
        format="json",
    ).json()
    assert body["status"] == "resolved" and body["false_positive"] is True
    assert_json_error(
        api.post(incident_url(ref, "resolve"), {"root_cause": "x"}, format="json"), 409
    )


def test_reopen_requires_a_reason_and_a_resolved_incident(api):
    ref = declare(api)["ref"]
    assert_json_error(api.post(incident_url(ref, "reopen"), {"reason": "why"}, format="json"), 409)
    api.post(incident_url(ref, "resolve"), {"root_cause": "Bad deploy"}, format="json")
    body = assert_json_error(
        api.post(incident_url(ref, "reopen"), {"reason": ""}, format="json"), 400
    )
    assert "reason" in body["errors"]
    assert Incident.objects.get(ref=ref).status == "resolved"


def test_roles_can_be_relieved_and_only_responders_hold_them(api, vera):
    ref = declare(api, commander="bob")["ref"]
    url = incident_url(ref, "roles")
    body = assert_json_error(
        api.post(url, {"role": "responder", "user": "vera"}, format="json"), 400
    )
    assert "user" in body["errors"]
    body = assert_json_error(
        api.post(url, {"role": "commander", "user": "nobody"}, format="json"), 400
    )
    assert "user" in body["errors"]
    response = api.post(url, {"role": "commander", "user": "bob", "relieve": True}, format="json")
    assert response.status_code == 200
    assert response.json()["commander"] is None
    assert [row["active"] for row in api.get(url).json()] == [False]


def test_updates_list_internal_and_public_newest_first(frozen, api):
    ref = declare(api)["ref"]
    url = incident_url(ref, "updates")
    api.post(url, {"message": "First, internal", "visibility": "internal"}, format="json")
    frozen.shift(60)
    api.post(url, {"message": "Second, public", "visibility": "public"}, format="json")
    rows = api.get(url).json()
    assert [(r["message"], r["visibility"]) for r in rows] == [
        ("Second, public", "public"),
        ("First, internal", "internal"),
    ]
    assert StatusUpdate.objects.filter(incident__ref=ref).count() == 2
    body = assert_json_error(
        api.post(url, {"message": "x", "visibility": "everyone"}, format="json"), 400
    )
    assert "visibility" in body["errors"]
    body = assert_json_error(api.post(url, {"visibility": "public"}, format="json"), 400)
    assert "message" in body["errors"]


def test_timeline_pages_newest_first_with_kinds(frozen, api):
    # P2: its on-call is informed, not paged, so no paging event joins these.
    ref = declare(api, severity="P2")["ref"]
    frozen.shift(60)
    api.post(incident_url(ref, "acknowledge"))
    frozen.shift(60)
    api.post(incident_url(ref, "updates"), {"message": "Looking"}, format="json")
    page = api.get(incident_url(ref, "timeline") + "?page_size=2").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3
    assert page["previous"] is None
    assert [e["kind"] for e in page["results"]] == ["update_posted", "acknowledged"]
    assert page["results"][0]["actor"] == "bob"
    last = api.get(page["next"]).json()
    assert [e["kind"] for e in last["results"]] == ["declared"]
    assert last["next"] is None and last["previous"] is not None
    event = last["results"][0]
    assert set(event) >= {"id", "kind", "at", "actor", "message", "before", "after", "detail"}
    assert parse_datetime(event["at"]) == T0
