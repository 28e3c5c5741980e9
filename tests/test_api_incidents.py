"""Incidents through the REST API (/api/v1/incidents/), with real tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from incidents import services
from incidents.models import (
    EventKind,
    Incident,
    RoleAssignment,
    StatusUpdate,
    TimelineEvent,
)
from tests import factories
from tests.api_support import INCIDENTS, assert_json_error, incident_url, token_client
from tests.engine_support import staff_both_paths

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

# The incident JSON other programs rely on (DESIGN.md), with each field's type.
OPTIONAL_TIME = (str, type(None))
OPTIONAL_NAME = (str, type(None))
INCIDENT_FIELDS = {
    "ref": str,
    "title": str,
    "severity": str,
    "status": str,
    "summary": str,
    "impact": str,
    "services": list,
    "detected_at": str,
    "acknowledged_at": OPTIONAL_TIME,
    "identified_at": OPTIONAL_TIME,
    "mitigated_at": OPTIONAL_TIME,
    "resolved_at": OPTIONAL_TIME,
    "commander": OPTIONAL_NAME,
    "communications_lead": OPTIONAL_NAME,
    "responders": list,
    "escalation_level": int,
    "source": str,
    "is_drill": bool,
    "url": str,
}
TIME_FIELDS = ["detected_at", "acknowledged_at", "identified_at", "mitigated_at", "resolved_at"]


def at(body: dict, field: str) -> datetime | None:
    return parse_datetime(body[field]) if body[field] is not None else None


def assert_incident_shape(body: dict) -> None:
    for field, kind in INCIDENT_FIELDS.items():
        assert field in body, f"{field} missing from incident JSON"
        assert isinstance(body[field], kind), (field, body[field])
    assert body["severity"] in {"P0", "P1", "P2", "P3"}
    assert body["status"] in {"investigating", "identified", "monitoring", "resolved"}
    assert not isinstance(body["escalation_level"], bool)
    for field in TIME_FIELDS:
        if body[field] is not None:
            moment = parse_datetime(body[field])
            assert moment is not None and moment.tzinfo is not None, (field, body[field])
    assert all(isinstance(name, str) for name in body["services"] + body["responders"])


@pytest.fixture
def api(bob):
    return token_client(bob)


@pytest.fixture
def staffed(db):
    """Someone on call at every level: with nobody, declaring a P1 climbs at
    once to the top and says nobody could be paged (tests/test_paging.py)."""
    staff_both_paths()


def declare(api, **fields) -> dict:
    body = {"title": "Checkout API returning 500s", "severity": "P1", **fields}
    response = api.post(INCIDENTS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def kinds(ref: str) -> list[str]:
    return list(
        TimelineEvent.objects.filter(incident__ref=ref)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )


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


# --- list: filters and pagination -----------------------------------------------


@pytest.fixture
def board(frozen, bob, alice):
    """Five incidents detected an hour apart, oldest first (09:00 … 13:00)."""
    made = {}

    def make(name, hours, **fields):
        made[name] = factories.declare(actor=bob, detected_at=T0 + timedelta(hours=hours), **fields)

    frozen.move_to(T0 + timedelta(hours=5))
    make("checkout", 0, title="Checkout API returning 500s", severity="P1", services=["api"])
    make(
        "db",
        1,
        title="Primary database failover",
        severity="P0",
        services=["database"],
        summary="Replica lag then failover",
    )
    make("drill", 2, title="Game day: cache loss", severity="P2", services=["cache"], is_drill=True)
    make("typo", 3, title="Typo on pricing page", severity="P3", services=["web"])
    make("search", 4, title="Search is slow", severity="P2", services=["api", "search"])
    services.incident_change_status(incident=made["db"], actor=bob, status="identified")
    services.incident_change_status(incident=made["search"], actor=bob, status="monitoring")
    services.incident_resolve(incident=made["typo"], actor=bob, root_cause="Copy error")
    factories.alert(made["drill"], title="KafkaConsumerLagHigh", manager=alice)
    return {name: incident.ref for name, incident in made.items()}


def refs(api, query: str = "") -> list[str]:
    response = api.get(INCIDENTS + query)
    assert response.status_code == 200, response.content
    return [row["ref"] for row in response.json()["results"]]


def test_list_is_newest_detection_first(api, board):
    assert refs(api) == [board[n] for n in ("search", "typo", "drill", "db", "checkout")]


def test_filter_by_one_status(api, board):
    assert refs(api, "?status=identified") == [board["db"]]


def test_filter_by_a_comma_list_of_statuses(api, board):
    assert set(refs(api, "?status=identified,monitoring")) == {board["db"], board["search"]}
    assert set(refs(api, "?status=resolved, identified")) == {board["db"], board["typo"]}


def test_filter_by_severity(api, board):
    assert set(refs(api, "?severity=P2")) == {board["drill"], board["search"]}
    assert set(refs(api, "?severity=P0,P3")) == {board["db"], board["typo"]}


def test_filter_open_true_and_false(api, board):
    assert set(refs(api, "?open=true")) == set(board.values()) - {board["typo"]}
    assert refs(api, "?open=false") == [board["typo"]]


def test_filter_by_service(api, board):
    assert set(refs(api, "?service=api")) == {board["checkout"], board["search"]}
    assert refs(api, "?service=Database") == [board["db"]]
    assert refs(api, "?service=nothing") == []


def test_filter_is_drill(api, board):
    assert refs(api, "?is_drill=true") == [board["drill"]]
    assert board["drill"] not in refs(api, "?is_drill=false")
    assert len(refs(api, "?is_drill=false")) == 4


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("RETURNING 500", ["checkout"]),  # title, any case
        ("replica lag", ["db"]),  # summary
        ("kafkaconsumer", ["drill"]),  # the title of an alert on the incident
    ],
)
def test_q_searches_title_summary_and_alert_names(api, board, q, expected):
    assert refs(api, f"?q={q}") == [board[name] for name in expected]


@pytest.mark.parametrize(
    "query",
    [
        {"severity": "P2"},
        {"status": "identified"},
        {"service": "api"},
        {"q": "replica lag"},
        {"q": "kafkaconsumer"},
        {"severity": "P2", "service": "search", "q": "SLOW"},
    ],
)
def test_the_board_and_the_api_filter_open_incidents_alike(api, client_for, bob, board, query):
    on_board = {
        i.ref for i in client_for(bob).get(reverse("incidents:board"), query).context["incidents"]
    }

    assert on_board  # a filter that matches nothing would prove little
    assert on_board == set(refs(api, "?" + urlencode({**query, "open": "true"})))


def test_q_matches_the_reference(api, board):
    assert refs(api, f"?q={board['drill'].lower()}") == [board["drill"]]
    assert len(refs(api, "?q=INC-20261128")) == 5


def test_filter_by_detection_time(api, board):
    assert set(refs(api, "?detected_after=2026-11-28T11:00:00Z")) == {
        board["drill"],
        board["typo"],
        board["search"],
    }
    assert set(refs(api, "?detected_before=2026-11-28T11:00:00%2B00:00")) == {
        board["checkout"],
        board["db"],
    }
    # A "+" left unencoded in a query string arrives as a space; it still works.
    window = "?detected_after=2026-11-28T10:00:00+00:00&detected_before=2026-11-28T12:00:00Z"
    assert set(refs(api, window)) == {board["db"], board["drill"]}
    assert refs(api, "?detected_after=2026-11-29") == []


def test_filters_combine(api, board):
    assert refs(api, "?open=true&service=api&severity=P1") == [board["checkout"]]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=fixed", "status"),
        ("status=identified,done", "status"),
        ("severity=P9", "severity"),
        ("open=maybe", "open"),
        ("is_drill=perhaps", "is_drill"),
        ("detected_after=yesterday", "detected_after"),
        ("detected_before=2026-13-45", "detected_before"),
        ("detected_before=2026-11-28T25:00:00Z", "detected_before"),
        ("source=pigeon", "source"),
    ],
)
def test_invalid_filter_value_is_400_naming_the_parameter(api, board, query, parameter):
    body = assert_json_error(api.get(f"{INCIDENTS}?{query}"), 400)
    assert list(body["errors"]) == [parameter]
    assert parameter in body["detail"]


def test_pagination_count_next_previous_results(api, board):
    first = api.get(INCIDENTS + "?page_size=2").json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert parse_qs(urlsplit(first["next"]).query) == {"page": ["2"], "page_size": ["2"]}
    second = api.get(first["next"]).json()
    assert [r["ref"] for r in second["results"]] == [board["drill"], board["db"]]
    third = api.get(second["next"]).json()
    assert [r["ref"] for r in third["results"]] == [board["checkout"]]
    assert third["next"] is None
    assert parse_qs(urlsplit(third["previous"]).query)["page"] == ["2"]
    pages = first["results"] + second["results"] + third["results"]
    assert len({r["ref"] for r in pages}) == 5
    for row in pages:
        assert_incident_shape(row)


def test_pagination_keeps_the_filters(api, board):
    page = api.get(INCIDENTS + "?open=true&page_size=1").json()
    assert page["count"] == 4
    assert "open=true" in page["next"]


def test_page_past_the_end_is_404_json(api, board):
    assert_json_error(api.get(INCIDENTS + "?page=9"), 404)


def test_list_reads_in_a_constant_number_of_queries(api, board, django_assert_max_num_queries):
    # Several incidents, their services, roles and deadlines: no query per row.
    with django_assert_max_num_queries(12):
        assert len(refs(api)) == 5
