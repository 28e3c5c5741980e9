"""On-call over HTTP: /api/v1/oncall/, /api/v1/schedules/ (overrides, shifts,
calendar) and the public iCalendar feed, with every permission."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from rest_framework.test import APIClient

from incidents.models import EscalationLevel, Override, Schedule
from tests import factories
from tests.api_support import API, assert_json_error, token_client
from tests.oncall_support import (
    T0,
)
from tests.page_support import queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

ONCALL = f"{API}/oncall/"
SCHEDULES = f"{API}/schedules/"


@pytest.fixture
def primary_rota(alice, bob):
    """The schedule "Primary, EU; core" (slug ``primary``): bob, then alice,
    weekly from Monday 09:00 UTC."""
    sched = Schedule.objects.create(name="Primary, EU; core", slug="primary")
    factories.rotation(sched, [bob, alice], starts_at=T0.replace(hour=9))
    return sched


def schedule_url(sched, action: str = "") -> str:
    return f"{SCHEDULES}{sched.pk}/" + (f"{action}/" if action else "")


def anonymous() -> APIClient:
    return APIClient()


# --- GET /api/v1/oncall/ ------------------------------------------------------------------


def test_oncall_lists_every_schedule_with_the_person_on_call_now(primary_rota, vera):
    body = token_client(vera, "read").get(ONCALL).json()

    by_slug = {entry["schedule"]["slug"]: entry for entry in body}
    entry = by_slug["primary"]
    assert entry["schedule"] == {
        "id": primary_rota.pk,
        "name": primary_rota.name,
        "slug": "primary",
    }
    assert entry["user"] == {"username": "bob", "name": "Bob", "email": "bob@treebeard.test"}
    assert entry["source"] == "rotation"
    assert entry["at"] == "2026-03-02T10:00:00Z"
    assert (entry["starts_at"], entry["ends_at"]) == (
        "2026-03-02T09:00:00Z",
        "2026-03-09T09:00:00Z",
    )
    # The guide's role schedules are listed too, with nobody on call.
    assert by_slug["on-call-engineer"]["user"] is None
    assert by_slug["on-call-engineer"]["source"] is None


def test_oncall_at_a_given_time_and_for_one_schedule(primary_rota, bob):
    response = token_client(bob).get(
        ONCALL, {"at": "2026-03-10T12:00:00+01:00", "schedule": "primary"}
    )

    assert response.status_code == 200
    [entry] = response.json()
    assert entry["user"]["username"] == "alice"
    assert entry["at"] == "2026-03-10T11:00:00Z"


def test_oncall_shows_an_override(primary_rota, alice, bob, vera):
    factories.override(primary_rota, vera, T0 - timedelta(hours=1), T0 + timedelta(hours=1))

    [entry] = token_client(bob).get(ONCALL, {"schedule": "primary"}).json()

    assert (entry["user"]["username"], entry["source"]) == ("vera", "override")


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("yesterday", "ISO 8601"),
        ("2026-03-02T10:00:00", "offset"),
        ("2026-13-02T10:00Z", "ISO"),
        ("9999-12-31T23:00:00Z", "between"),
    ],
)
def test_oncall_refuses_a_malformed_or_naive_at(primary_rota, bob, at, message):
    body = assert_json_error(token_client(bob).get(ONCALL, {"at": at}), 400)

    assert message in body["errors"]["at"][0]


def test_oncall_for_an_unknown_schedule_is_400_naming_it(bob):
    body = assert_json_error(token_client(bob).get(ONCALL, {"schedule": "nope"}), 400)

    assert "schedule" in body["errors"]


def test_oncall_is_for_signed_in_people_with_a_group(primary_rota, alice, bob, vera, charlie):
    for user in (alice, bob, vera):
        assert token_client(user, "read").get(ONCALL).status_code == 200
    assert_json_error(token_client(charlie, "read").get(ONCALL), 403)
    assert_json_error(token_client(bob, "ingest").get(ONCALL), 403)
    assert_json_error(anonymous().get(ONCALL), 401)


# Session, user, permission check (2), schedules, rotations, members, overrides.
ONCALL_QUERIES = 8


def test_oncall_takes_the_same_queries_however_many_schedules(
    primary_rota, alice, bob, client_for, django_assert_num_queries
):
    client = client_for(bob)
    few = queries(client, ONCALL)
    for n in range(8):
        sched = Schedule.objects.create(name=f"Team {n}", slug=f"team-{n}")
        factories.rotation(sched, [alice], interval="daily", name="r")
        factories.override(sched, bob, T0, T0 + timedelta(hours=2))

    with django_assert_num_queries(ONCALL_QUERIES):
        client.get(ONCALL)
    assert few == ONCALL_QUERIES


# --- /api/v1/schedules/ --------------------------------------------------------------------


def test_a_schedule_shows_its_feed_on_call_person_rotations_and_overrides(
    primary_rota, vera, alice
):
    factories.override(primary_rota, alice, reason="swap", created_by=alice)
    # Over two days ago: not listed.
    factories.override(primary_rota, alice, T0 - timedelta(days=3), T0 - timedelta(days=2))

    body = token_client(vera, "read").get(schedule_url(primary_rota)).json()

    assert body["ical_url"] == (
        f"{settings.SITE_URL}/oncall/{primary_rota.feed_token}/calendar.ics"
    )
    assert body["oncall_now"]["user"]["username"] == "bob"
    assert body["rotations"][0]["members"] == ["bob", "alice"]
    assert [(o["user"], o["reason"], o["created_by"]) for o in body["overrides"]] == [
        ("alice", "swap", "alice")
    ]


def test_the_schedule_list_takes_the_same_queries_however_many_schedules(
    primary_rota, alice, client_for
):
    client = client_for(alice)
    few = queries(client, SCHEDULES)
    for n in range(5):
        sched = Schedule.objects.create(name=f"Team {n}", slug=f"team-{n}")
        factories.rotation(sched, [alice], interval="daily", name="r")

    assert queries(client, SCHEDULES) == few


def test_managers_create_edit_and_delete_schedules(alice):
    api = token_client(alice)

    created = api.post(
        SCHEDULES, {"name": "Database team", "time_zone": "Europe/Berlin"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "database-team"
    url = f"{SCHEDULES}{created.json()['id']}/"
    assert api.patch(url, {"description": "DBAs"}, format="json").status_code == 200
    assert api.delete(url).status_code == 204
    assert not Schedule.objects.filter(slug="database-team").exists()


def test_a_schedule_needs_an_iana_time_zone(alice):
    response = token_client(alice).post(
        SCHEDULES, {"name": "X", "time_zone": "Berlin"}, format="json"
    )

    body = assert_json_error(response, 400)
    assert "time_zone" in body["errors"]
    assert not Schedule.objects.filter(name="X").exists()


def test_a_schedule_an_escalation_level_pages_cannot_be_deleted(alice):
    sched = EscalationLevel.objects.filter(schedule__isnull=False).first().schedule

    assert_json_error(token_client(alice).delete(schedule_url(sched)), 409)
    assert Schedule.objects.filter(pk=sched.pk).exists()


def test_only_managers_write_schedules(primary_rota, bob, vera, charlie):
    for user in (bob, vera):
        api = token_client(user)
        assert api.get(SCHEDULES).status_code == 200
        assert_json_error(api.post(SCHEDULES, {"name": "Mine"}, format="json"), 403)
        assert_json_error(
            api.patch(schedule_url(primary_rota), {"name": "Mine"}, format="json"), 403
        )
        assert_json_error(api.delete(schedule_url(primary_rota)), 403)
    assert_json_error(token_client(charlie).get(SCHEDULES), 403)
    assert_json_error(anonymous().get(SCHEDULES), 401)
    assert Schedule.objects.get(pk=primary_rota.pk).name == "Primary, EU; core"


# --- overrides ---------------------------------------------------------------------------

WINDOW = {"starts_at": "2026-03-03T18:00:00+01:00", "ends_at": "2026-03-04T08:00:00+01:00"}


def test_a_manager_adds_an_override_for_anyone(primary_rota, alice, vera):
    response = token_client(alice).post(
        schedule_url(primary_rota, "overrides"),
        {"user": "vera", **WINDOW, "reason": "cover"},
        format="json",
    )

    assert response.status_code == 201, response.content
    override = Override.objects.get()
    assert (override.user, override.created_by) == (vera, alice)
    assert override.starts_at == datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    at = "2026-03-03T20:00:00Z"
    [entry] = token_client(vera).get(ONCALL, {"schedule": "primary", "at": at}).json()
    assert entry["user"]["username"] == "vera"


def test_a_responder_may_put_only_themselves_on_call(primary_rota, bob, alice):
    api = token_client(bob)

    mine = api.post(
        schedule_url(primary_rota, "overrides"), {"user": "bob", **WINDOW}, format="json"
    )
    theirs = api.post(
        schedule_url(primary_rota, "overrides"), {"user": "alice", **WINDOW}, format="json"
    )

    assert mine.status_code == 201
    assert_json_error(theirs, 403)
    assert list(Override.objects.values_list("user__username", flat=True)) == ["bob"]


def test_viewers_and_strangers_cannot_add_overrides(primary_rota, vera, charlie):
    for user in (vera, charlie):
        response = token_client(user).post(
            schedule_url(primary_rota, "overrides"),
            {"user": user.username, **WINDOW},
            format="json",
        )
        assert_json_error(response, 403)
    assert_json_error(
        token_client(vera, "read").post(
            schedule_url(primary_rota, "overrides"), {"user": "vera", **WINDOW}, format="json"
        ),
        403,
    )
    assert not Override.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"user": "bob", "starts_at": WINDOW["ends_at"], "ends_at": WINDOW["starts_at"]},
            "ends_at",
        ),
        (
            {"user": "bob", "starts_at": WINDOW["starts_at"], "ends_at": WINDOW["starts_at"]},
            "ends_at",
        ),
        (
            {"user": "bob", "starts_at": "2026-03-03T18:00:00", "ends_at": WINDOW["ends_at"]},
            "starts_at",
        ),
        ({"user": "bob", "starts_at": WINDOW["starts_at"], "ends_at": "soon"}, "ends_at"),
        ({"user": "nobody", **WINDOW}, "user"),
        ({**WINDOW}, "user"),
    ],
)
def test_a_bad_override_is_400_naming_the_field_and_writes_nothing(
    primary_rota, alice, data, field
):
    response = token_client(alice).post(
        schedule_url(primary_rota, "overrides"), data, format="json"
    )

    body = assert_json_error(response, 400)
    assert field in body["errors"], body
    assert not Override.objects.exists()


def test_the_overrides_list_shows_current_and_upcoming_ones(primary_rota, bob):
    factories.override(primary_rota, bob, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    factories.override(primary_rota, bob, T0 - timedelta(days=2), T0 - timedelta(days=1))

    body = token_client(bob).get(schedule_url(primary_rota, "overrides")).json()

    assert [o["ends_at"] for o in body] == ["2026-03-02T11:00:00Z"]


def test_a_manager_removes_any_override_and_the_rotation_is_back(primary_rota, alice, vera):
    override = factories.override(primary_rota, vera, created_by=alice)
    at = (T0 + timedelta(days=1, hours=1)).isoformat()
    api = token_client(alice)
    assert api.get(ONCALL, {"schedule": "primary", "at": at}).json()[0]["user"]["username"] == (
        "vera"
    )

    response = api.delete(schedule_url(primary_rota, f"overrides/{override.pk}"))

    assert response.status_code == 204
    assert not Override.objects.exists()
    [entry] = api.get(ONCALL, {"schedule": "primary", "at": at}).json()
    assert entry["user"]["username"] == "bob"


def test_a_responder_removes_only_overrides_covering_them_or_added_by_them(
    primary_rota, alice, bob, vera
):
    covering_bob = factories.override(primary_rota, bob, created_by=alice)
    added_by_bob = factories.override(primary_rota, vera, created_by=bob)
    someone_elses = factories.override(primary_rota, vera, created_by=alice)
    api = token_client(bob)

    assert api.delete(schedule_url(primary_rota, f"overrides/{covering_bob.pk}")).status_code == 204
    assert api.delete(schedule_url(primary_rota, f"overrides/{added_by_bob.pk}")).status_code == 204
    assert_json_error(api.delete(schedule_url(primary_rota, f"overrides/{someone_elses.pk}")), 403)
    assert list(Override.objects.values_list("pk", flat=True)) == [someone_elses.pk]


def test_viewers_cannot_remove_overrides_and_unknown_ones_are_404(primary_rota, alice, vera):
    override = factories.override(primary_rota, vera, created_by=alice)
    other = Schedule.objects.create(name="Other", slug="other")

    assert_json_error(
        token_client(vera).delete(schedule_url(primary_rota, f"overrides/{override.pk}")), 403
    )
    api = token_client(alice)
    body = assert_json_error(api.delete(schedule_url(other, f"overrides/{override.pk}")), 404)
    assert f"No override {override.pk}" in body["detail"]
    assert_json_error(api.delete(schedule_url(primary_rota, "overrides/999999")), 404)
    assert Override.objects.filter(pk=override.pk).exists()


# --- shifts --------------------------------------------------------------------------------


def test_shifts_lists_the_final_schedule_over_a_window(primary_rota, vera):
    response = token_client(vera).get(
        schedule_url(primary_rota, "shifts"),
        {"start": "2026-03-02T00:00:00Z", "end": "2026-03-16T09:00:00Z"},
    )

    assert response.status_code == 200
    assert [(s["user"]["username"], s["starts_at"], s["ends_at"]) for s in response.json()] == [
        ("bob", "2026-03-02T09:00:00Z", "2026-03-09T09:00:00Z"),
        ("alice", "2026-03-09T09:00:00Z", "2026-03-16T09:00:00Z"),
    ]


def test_shifts_of_one_person_and_by_default_the_next_week(primary_rota, vera):
    api = token_client(vera)

    alices = api.get(
        schedule_url(primary_rota, "shifts"), {"user": "alice", "end": "2026-03-20T00:00:00Z"}
    ).json()
    default = api.get(schedule_url(primary_rota, "shifts")).json()

    assert [s["user"]["username"] for s in alices] == ["alice"]
    assert default[0]["starts_at"] == "2026-03-02T10:00:00Z"
    assert default[-1]["ends_at"] == "2026-03-09T10:00:00Z"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-06-04T00:00:01Z"}, "end"),
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
        ({"start": "2026-03-02T00:00:00"}, "start"),
        ({"user": "nobody"}, "user"),
    ],
)
def test_bad_shift_queries_are_400_naming_the_parameter(primary_rota, vera, params, field):
    response = token_client(vera).get(schedule_url(primary_rota, "shifts"), params)

    assert field in assert_json_error(response, 400)["errors"]


# --- iCalendar -----------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    """RFC 5545 3.1: CRLF line ends; a line starting with a space continues the last."""
    assert text.endswith("\r\n")
    raw = text[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in raw)
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def events(lines: list[str]) -> list[dict[str, str]]:
    found, current = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return found


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def feed_url(sched) -> str:
    return f"/oncall/{sched.feed_token}/calendar.ics"


def test_the_public_feed_is_valid_icalendar_without_signing_in(primary_rota, alice):
    alice.first_name, alice.last_name = "Alice", "Ångström-Øverland, Jr.; Ph.D. " + "x" * 40
    alice.save()

    response = anonymous().get(feed_url(primary_rota))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode("utf-8")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert lines[:4] == ["BEGIN:VCALENDAR", "VERSION:2.0", lines[2], "CALSCALE:GREGORIAN"]
    assert lines[2].startswith("PRODID:") and lines[-1] == "END:VCALENDAR"
    assert unescape(next(v for v in lines if v.startswith("X-WR-CALNAME:")).split(":", 1)[1]) == (
        "On call: Primary, EU; core"
    )
    found = events(lines)
    # 14 days back to 90 days ahead: the rotation started today, so weekly shifts from now.
    assert found[0]["DTSTART"] == "20260302T090000Z"
    assert found[0]["DTEND"] == "20260309T090000Z"
    assert all(re.fullmatch(r"\d{8}T\d{6}Z", e["DTSTART"]) for e in found)
    assert found[-1]["DTSTART"] <= "20260531T100000Z" < found[-1]["DTEND"]
    assert all(
        e["UID"].endswith("@treebeard-ir") and e["DTSTAMP"] == "20260302T100000Z" for e in found
    )
    assert len({e["UID"] for e in found}) == len(found)
    summaries = [unescape(e["SUMMARY"]) for e in found]
    assert summaries[0] == "On call: Primary, EU; core (Bob)"
    assert summaries[1] == f"On call: Primary, EU; core ({alice.get_full_name()})"
    assert "\\," in found[0]["SUMMARY"] and "\\;" in found[0]["SUMMARY"]


def test_the_feed_reaches_14_days_back_with_whole_shifts(alice, bob):
    sched = Schedule.objects.create(name="Old", slug="old")
    factories.rotation(sched, [alice, bob], name="r", starts_at=T0 - timedelta(days=30))

    found = events(unfold(anonymous().get(feed_url(sched)).content.decode()))

    # Hand-offs every 7 days from 30 days ago: the shift covering 14 days ago
    # began 16 days ago and is listed whole; the one before it is not listed.
    assert (found[0]["DTSTART"], found[0]["DTEND"]) == ("20260214T100000Z", "20260221T100000Z")
    assert unescape(found[0]["SUMMARY"]) == "On call: Old (Alice)"  # third turn: alice again


def test_each_person_can_subscribe_to_their_own_shifts(primary_rota):
    lines = unfold(anonymous().get(feed_url(primary_rota), {"user": "alice"}).content.decode())

    assert {unescape(e["SUMMARY"]) for e in events(lines)} == {"On call: Primary, EU; core (Alice)"}


def test_feed_uids_stay_the_same_from_one_poll_to_the_next(primary_rota):
    first = events(unfold(anonymous().get(feed_url(primary_rota)).content.decode()))
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        later = events(unfold(anonymous().get(feed_url(primary_rota)).content.decode()))

    assert [e["UID"] for e in first] == [e["UID"] for e in later]


def test_an_unknown_feed_token_or_person_is_404(primary_rota):
    assert anonymous().get("/oncall/not-a-token/calendar.ics").status_code == 404
    assert anonymous().get(feed_url(primary_rota), {"user": "nobody"}).status_code == 404


def test_the_api_calendar_needs_a_signed_in_viewer(primary_rota, vera, charlie):
    url = f"{SCHEDULES}{primary_rota.pk}/calendar.ics"

    ok = token_client(vera, "read").get(url, HTTP_ACCEPT="text/calendar")

    assert ok.status_code == 200
    assert ok["Content-Type"] == "text/calendar; charset=utf-8"
    assert events(unfold(ok.content.decode()))
    assert token_client(charlie).get(url).status_code == 403
    assert anonymous().get(url).status_code == 401


def test_the_feed_parses_with_the_icalendar_library(primary_rota):
    import icalendar

    calendar = icalendar.Calendar.from_ical(anonymous().get(feed_url(primary_rota)).content)

    first = next(iter(calendar.walk("VEVENT")))
    assert first.decoded("DTSTART") == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert str(first["SUMMARY"]) == "On call: Primary, EU; core (Bob)"


# --- the answers match the OpenAPI schema --------------------------------------------------


def test_on_call_answers_match_their_documented_schema(primary_rota, alice, bob):
    from tests.test_api_schema import Conformance

    client = APIClient()
    client.force_login(alice)
    conform = Conformance(
        client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    )
    api = token_client(alice)
    one = "/api/v1/schedules/{id}/"

    def call(method, template, url, data=None):
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code < 300, (method, url, response.content[:500])
        conform.check(template, method, response)

    call("get", "/api/v1/oncall/", ONCALL)
    call("get", "/api/v1/schedules/", SCHEDULES)
    call("get", one, schedule_url(primary_rota))
    call("patch", one, schedule_url(primary_rota), {"description": "Main"})
    call(
        "post",
        one + "overrides/",
        schedule_url(primary_rota, "overrides"),
        {"user": "bob", **WINDOW},
    )
    call("get", one + "overrides/", schedule_url(primary_rota, "overrides"))
    call("get", one + "shifts/", schedule_url(primary_rota, "shifts"))
    override = Override.objects.get()
    call(
        "delete",
        one + "overrides/{override_id}/",
        schedule_url(primary_rota, f"overrides/{override.pk}"),
    )
    call("post", "/api/v1/schedules/", SCHEDULES, {"name": "Spare"})
    call("delete", one, f"{SCHEDULES}{Schedule.objects.get(name='Spare').pk}/")
