"""Incidents through the REST API (/api/v1/incidents/), with real tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils.dateparse import parse_datetime

from incidents.models import EventKind, Incident, RoleAssignment, TimelineEvent
from tests import factories
from tests.api_support import (
    INCIDENTS,
    assert_incident_shape,
    assert_json_error,
    declare,
    incident_url,
    kinds,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def at(body: dict, field: str) -> datetime | None:
    return parse_datetime(body[field]) if body[field] is not None else None


# --- the whole lifecycle ------------------------------------------------------


def test_incident_lifecycle_through_the_api(staffed, frozen, api, bob, alice):
    factories.responder("dora")

    # Declare.
    response = api.post(
        INCIDENTS,
        {
            "title": "Checkout API returning 500s",
            "severity": "P1",
            "summary": "Error rate 3% on /checkout",
            "impact": "Some customers cannot pay",
            "services": ["API", "checkout"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    incident = response.json()
    assert_incident_shape(incident)
    ref = incident["ref"]
    assert ref == "INC-20261128-001"
    assert response["Location"].endswith(f"/api/v1/incidents/{ref}/")
    assert incident["status"] == "investigating"
    assert incident["services"] == ["api", "checkout"]
    assert incident["escalation_level"] == 1
    assert incident["source"] == "team_member"
    assert at(incident, "detected_at") == T0
    assert incident["acknowledged_at"] is None

    # Acknowledge, two minutes later.
    frozen.shift(timedelta(minutes=2))
    response = api.post(incident_url(ref, "acknowledge"))
    assert response.status_code == 200, response.content
    assert at(response.json(), "acknowledged_at") == T0 + timedelta(minutes=2)

    # Roles: bob commands, then hands over to dora; alice leads comms; bob responds.
    url = incident_url(ref, "roles")
    assert api.post(url, {"role": "commander", "user": "bob"}, format="json").status_code == 200
    frozen.shift(timedelta(minutes=1))
    response = api.post(url, {"role": "commander", "user": "dora"}, format="json")
    assert response.status_code == 200, response.content
    api.post(url, {"role": "communications_lead", "user": "alice"}, format="json")
    response = api.post(url, {"role": "responder", "user": "bob"}, format="json")
    incident = response.json()
    assert incident["commander"] == "dora"
    assert incident["communications_lead"] == "alice"
    assert incident["responders"] == ["bob"]
    history = api.get(url).json()
    commanders = [row for row in history if row["role"] == "commander"]
    assert [(row["user"], row["active"]) for row in commanders] == [("dora", True), ("bob", False)]
    assert parse_datetime(commanders[1]["relieved_at"]) == T0 + timedelta(minutes=3)
    assert commanders[0]["relieved_at"] is None
    assert commanders[0]["assigned_by"] == "bob"

    # Status updates: one internal, one public that moves the status on.
    url = incident_url(ref, "updates")
    response = api.post(url, {"message": "Looking at the checkout pods."}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["visibility"] == "internal"
    assert response.json()["status"] == "investigating"
    frozen.shift(timedelta(minutes=5))
    response = api.post(
        url,
        {"message": "A bad deploy; rolling back.", "visibility": "public", "status": "identified"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["author"] == "bob"
    updates = api.get(url).json()
    assert [(u["visibility"], u["status"]) for u in updates] == [
        ("public", "identified"),
        ("internal", "investigating"),
    ]
    incident = api.get(incident_url(ref)).json()
    assert incident["status"] == "identified"
    assert at(incident, "identified_at") == T0 + timedelta(minutes=8)

    # PATCH: fields, severity, status.
    response = api.patch(
        incident_url(ref),
        {
            "title": "Checkout down after deploy 4121",
            "impact": "No customer can pay",
            "services": ["checkout"],
            "customer_impacting": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    incident = response.json()
    assert incident["title"] == "Checkout down after deploy 4121"
    assert incident["impact"] == "No customer can pay"
    assert incident["services"] == ["checkout"]
    response = api.patch(
        incident_url(ref), {"severity": "P0", "reason": "All payments fail"}, format="json"
    )
    assert response.json()["severity"] == "P0"
    response = api.patch(
        incident_url(ref),
        {"status": "investigating", "reason": "Rollback did not help"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "investigating"

    # Escalate by hand: a reason is required; a P0 climbs to L4 and no further.
    url = incident_url(ref, "escalate")
    body = assert_json_error(api.post(url, {}, format="json"), 400)
    assert "reason" in body["errors"]
    for level in (2, 3, 4):
        response = api.post(url, {"reason": "Still failing"}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["escalation_level"] == level
    assert_json_error(api.post(url, {"reason": "Still failing"}, format="json"), 409)

    # Mitigate.
    frozen.shift(timedelta(minutes=10))
    response = api.post(
        incident_url(ref, "mitigate"), {"reason": "Traffic moved to EU"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "monitoring"
    assert at(response.json(), "mitigated_at") == T0 + timedelta(minutes=18)

    # Resolve: a root cause is required, and a refusal changes nothing.
    url = incident_url(ref, "resolve")
    body = assert_json_error(api.post(url, {"resolution": "Rolled back"}, format="json"), 400)
    assert "root_cause" in body["errors"]
    assert Incident.objects.get(ref=ref).status == "monitoring"
    frozen.shift(timedelta(minutes=20))
    response = api.post(
        url,
        {"root_cause": "Deploy 4121 broke the payment client", "resolution": "Rolled back to 4120"},
        format="json",
    )
    assert response.status_code == 200, response.content
    incident = response.json()
    assert incident["status"] == "resolved"
    assert at(incident, "resolved_at") == T0 + timedelta(minutes=38)
    assert incident["root_cause"] == "Deploy 4121 broke the payment client"

    # Reopen: a reason is required.
    url = incident_url(ref, "reopen")
    body = assert_json_error(api.post(url, {}, format="json"), 400)
    assert "reason" in body["errors"]
    response = api.post(url, {"reason": "Errors are back"}, format="json")
    assert response.status_code == 200, response.content
    incident = response.json()
    assert_incident_shape(incident)
    assert incident["status"] == "investigating"
    assert incident["resolved_at"] is None
    assert incident["reopen_count"] == 1

    # The timeline holds every step, newest first, page by page.
    expected = kinds(ref)
    assert expected[0] == EventKind.DECLARED and expected[-1] == EventKind.REOPENED
    seen = []
    url = incident_url(ref, "timeline") + "?page_size=4"
    while url:
        page = api.get(url).json()
        assert page["count"] == len(expected)
        seen += [event["kind"] for event in page["results"]]
        url = page["next"]
    assert seen == list(reversed(expected))
    assert set(seen) >= {
        "declared",
        "acknowledged",
        "role_assigned",
        "update_posted",
        "status_changed",
        "fields_changed",
        "severity_changed",
        "escalated",
        "mitigated",
        "resolved",
        "reopened",
    }


# --- incident JSON ------------------------------------------------------------


def test_incident_json_has_every_documented_field_with_its_type(frozen, api, bob):
    ref = declare(api, commander="bob", services=["api"])["ref"]
    api.post(incident_url(ref, "acknowledge"))
    body = api.get(incident_url(ref)).json()
    assert_incident_shape(body)
    assert body["commander"] == "bob"
    assert body["communications_lead"] is None
    assert body["responders"] == []
    assert body["is_drill"] is False
    assert at(body, "acknowledged_at") == T0


def test_incident_url_is_its_dashboard_page_and_opens_for_a_signed_in_user(api, bob, client):
    body = declare(api)
    url = urlsplit(body["url"])
    assert url.path == f"/incidents/{body['ref']}/"
    assert not url.path.startswith("/api/")
    client.force_login(bob)
    assert client.get(url.path).status_code == 200


def test_unknown_reference_is_404_naming_it(api):
    body = assert_json_error(api.get(incident_url("INC-20990101-999")), 404)
    assert "INC-20990101-999" in body["detail"]
    body = assert_json_error(api.post(incident_url("INC-20990101-999", "acknowledge")), 404)
    assert "INC-20990101-999" in body["detail"]


def test_reference_in_lower_case_finds_the_incident(api):
    ref = declare(api)["ref"]
    response = api.get(incident_url(ref.lower()))
    assert response.status_code == 200
    assert response.json()["ref"] == ref
    assert api.post(incident_url(ref.lower(), "acknowledge")).status_code == 200


# --- declaring ----------------------------------------------------------------


def test_user_report_is_filed_with_its_source(api):
    body = declare(
        api,
        title="Customer says invoices are blank",
        severity="P3",
        source="user_report",
        summary="Reported by ACME by email",
    )
    assert body["source"] == "user_report"
    assert Incident.objects.get(ref=body["ref"]).source == "user_report"


def test_support_ticket_is_filed_with_its_source(api):
    body = declare(api, title="Ticket 5521: login loops", severity="P2", source="support_ticket")
    assert body["source"] == "support_ticket"


def test_declare_without_a_title_is_400_naming_it(api):
    body = assert_json_error(api.post(INCIDENTS, {"severity": "P1"}, format="json"), 400)
    assert "title" in body["errors"]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("summary", "reason_word"),
    [
        ("Error rate 7% on every endpoint", "error rate"),
        ("The database down since 09:00", "database"),
    ],
)
def test_declared_without_severity_the_guide_criteria_choose_p0(api, summary, reason_word):
    response = api.post(
        INCIDENTS,
        {"title": "Customers cannot check out", "summary": summary, "source": "user_report"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["severity"] == "P0"
    declared = TimelineEvent.objects.get(incident__ref=body["ref"], kind=EventKind.DECLARED)
    reasons = declared.detail["severity_reasons"]
    assert reasons, "the suggestion's reasons go on the timeline"
    assert reason_word in " ".join(reasons).lower()
    assert reasons[0] in declared.message
    timeline = api.get(incident_url(body["ref"], "timeline")).json()["results"]
    assert timeline[-1]["kind"] == "declared"
    assert timeline[-1]["detail"]["severity_reasons"] == reasons


def test_declare_with_a_commander_assigns_the_role(api, bob):
    body = declare(api, commander="bob")
    assert body["commander"] == "bob"
    assert RoleAssignment.objects.filter(incident__ref=body["ref"], role="commander").count() == 1


def test_declare_with_a_viewer_as_commander_is_400_naming_commander_and_opens_nothing(api, vera):
    body = assert_json_error(
        api.post(
            INCIDENTS,
            {"title": "Checkout down", "severity": "P1", "commander": "vera"},
            format="json",
        ),
        400,
    )
    assert list(body["errors"]) == ["commander"]
    assert "vera" in body["detail"]
    assert not Incident.objects.exists()
    assert not TimelineEvent.objects.exists()


def test_declare_detected_in_the_future_is_400_naming_detected_at(frozen, api):
    future = (T0 + timedelta(hours=1)).isoformat()
    body = assert_json_error(
        api.post(
            INCIDENTS,
            {"title": "Time travel", "severity": "P3", "detected_at": future},
            format="json",
        ),
        400,
    )
    assert list(body["errors"]) == ["detected_at"]
    assert not Incident.objects.exists()


def test_declare_detected_earlier_takes_the_reference_of_that_day(frozen, api):
    body = declare(api, detected_at="2026-11-27T23:50:00Z")
    assert body["ref"] == "INC-20261127-001"
    assert at(body, "detected_at") == datetime(2026, 11, 27, 23, 50, tzinfo=UTC)


# --- PATCH --------------------------------------------------------------------


def test_patch_changes_fields_and_writes_one_timeline_event(api):
    ref = declare(api, summary="Old summary")["ref"]
    response = api.patch(
        incident_url(ref), {"summary": "New summary", "services": ["db"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["summary"] == "New summary"
    assert response.json()["services"] == ["db"]
    event = TimelineEvent.objects.get(incident__ref=ref, kind=EventKind.FIELDS_CHANGED)
    assert event.before == {"summary": "Old summary", "services": []}
    assert event.after == {"summary": "New summary", "services": ["db"]}


def test_patch_severity_records_the_reason(api):
    ref = declare(api, severity="P2")["ref"]
    response = api.patch(
        incident_url(ref), {"severity": "P1", "reason": "More users affected"}, format="json"
    )
    assert response.json()["severity"] == "P1"
    event = TimelineEvent.objects.get(incident__ref=ref, kind=EventKind.SEVERITY_CHANGED)
    assert (event.before, event.after, event.message) == (
        {"severity": "P2"},
        {"severity": "P1"},
        "More users affected",
    )


def test_patch_status_moves_the_incident_and_sets_stage_times(frozen, api):
    ref = declare(api)["ref"]
    frozen.shift(timedelta(minutes=4))
    body = api.patch(incident_url(ref), {"status": "monitoring"}, format="json").json()
    assert body["status"] == "monitoring"
    assert at(body, "identified_at") == T0 + timedelta(minutes=4)
    assert at(body, "mitigated_at") == T0 + timedelta(minutes=4)


def test_patch_with_an_unknown_field_is_400_naming_it(api):
    ref = declare(api)["ref"]
    response = api.patch(
        incident_url(ref), {"title": "Renamed", "priority": "urgent"}, format="json"
    )
    body = assert_json_error(response, 400)
    assert list(body["errors"]) == ["priority"]
    assert "priority" in body["detail"]
    assert Incident.objects.get(ref=ref).title == "Checkout API returning 500s"


def test_patch_cannot_resolve_or_set_read_only_fields(api):
    ref = declare(api)["ref"]
    body = assert_json_error(api.patch(incident_url(ref), {"ref": "INC-1"}, format="json"), 400)
    assert "ref" in body["errors"]
    body = assert_json_error(
        api.patch(incident_url(ref), {"status": "resolved"}, format="json"), 400
    )
    assert "status" in body["errors"]
    assert Incident.objects.get(ref=ref).status == "investigating"


def test_patch_with_an_invalid_status_changes_no_other_field(api):
    ref = declare(api, summary="Before")["ref"]
    before = kinds(ref)
    response = api.patch(
        incident_url(ref),
        {"title": "Renamed", "summary": "After", "severity": "P0", "status": "fixed"},
        format="json",
    )
    body = assert_json_error(response, 400)
    assert "status" in body["errors"]
    incident = Incident.objects.get(ref=ref)
    assert (incident.title, incident.summary, incident.severity) == (
        "Checkout API returning 500s",
        "Before",
        "P1",
    )
    assert kinds(ref) == before


def test_patch_refused_midway_rolls_back_the_fields_it_had_changed(api):
    """Editing a resolved incident's title is allowed, re-grading it is not:
    the 409 for the severity undoes the title change of the same PATCH."""
    ref = declare(api)["ref"]
    api.post(incident_url(ref, "resolve"), {"root_cause": "Bad deploy"}, format="json")
    before = kinds(ref)
    response = api.patch(incident_url(ref), {"title": "Renamed", "severity": "P0"}, format="json")
    assert_json_error(response, 409)
    incident = Incident.objects.get(ref=ref)
    assert (incident.title, incident.severity) == ("Checkout API returning 500s", "P1")
    assert kinds(ref) == before
