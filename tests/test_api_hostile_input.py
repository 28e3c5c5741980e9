"""Hostile input at the REST API: bodies, query strings and path segments
answer a 4xx naming the field, never a 500, and write nothing."""

from __future__ import annotations

import json

import pytest

from incidents.models import Channel, Incident, Integration, Schedule, TimelineEvent
from tests.api_support import API, INCIDENTS, assert_json_error, incident_url, token_client

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
BIG = "9" * 5000


@pytest.fixture
def api(alice):
    return token_client(alice)


@pytest.fixture
def schedule(db):
    return Schedule.objects.create(name="Primary", slug="primary", time_zone="Etc/GMT+12")


def raw(template: dict, field: str, json_text: str) -> str:
    """``template`` as JSON with ``field`` set to literal JSON text."""
    return json.dumps({**template, field: "__RAW__"}).replace('"__RAW__"', json_text)


def written() -> tuple[int, int]:
    return Incident.objects.count(), TimelineEvent.objects.count()


# --- JSON bodies ---------------------------------------------------------------------

DECLARE = {"title": "Checkout down", "severity": "P2"}


@pytest.mark.parametrize(
    ("field", "json_text"),
    [
        ("title", '"a\\u0000b"'),
        ("title", '"a\\ud800b"'),
        ("summary", '"\\udfff"'),
        ("commander", '"bo\\u0000b"'),
        ("services", '["api", "\\ud800"]'),
    ],
)
def test_declare_with_nul_or_lone_surrogate_is_400_naming_the_field(api, field, json_text):
    before = written()
    response = api.post(INCIDENTS, raw(DECLARE, field, json_text), content_type="application/json")
    body = assert_json_error(response, 400)
    assert any(key.startswith(field) for key in body["errors"]), body
    assert written() == before


@pytest.mark.parametrize("json_text", ["NaN", "Infinity", "-Infinity", "1e999", BIG, DEEP])
def test_declare_with_non_json_numbers_huge_ints_or_deep_nesting_is_400(api, json_text):
    before = written()
    response = api.post(
        INCIDENTS, raw(DECLARE, "is_drill", json_text), content_type="application/json"
    )
    assert_json_error(response, 400)
    assert written() == before


def test_a_whole_body_nested_too_deep_is_400_not_a_recursion_error(api, incident):
    for method, path in [
        ("post", INCIDENTS),
        ("patch", incident_url(incident.ref)),
        ("post", incident_url(incident.ref, "updates")),
        ("post", f"{API}/channels/"),
    ]:
        response = getattr(api, method)(path, DEEP, content_type="application/json")
        body = assert_json_error(response, 400)
        assert "nested" in body["detail"]


@pytest.mark.parametrize("body", ["[]", '[{"title": "x"}]', '"text"', "1", "null", "true"])
def test_a_body_that_is_not_an_object_is_400(api, incident, body):
    for method, path in [("post", INCIDENTS), ("patch", incident_url(incident.ref))]:
        response = getattr(api, method)(path, body, content_type="application/json")
        assert_json_error(response, 400)


def test_a_body_in_a_charset_it_does_not_decode_in_is_400(api):
    response = api.post(INCIDENTS, b"\xff\xfe{}", content_type="application/json; charset=utf-16")
    assert_json_error(response, 400)
    response = api.post(INCIDENTS, b"{}", content_type="application/json; charset=bogus")
    assert_json_error(response, 400)


def test_form_encoded_body_with_a_nul_is_400_naming_the_field(api, incident):
    response = api.post(
        incident_url(incident.ref, "roles"),
        "role=responder&user=bo%00b",
        content_type="application/x-www-form-urlencoded",
    )
    body = assert_json_error(response, 400)
    assert "user" in body["errors"]


def test_override_for_a_person_named_with_a_nul_is_400(api, schedule):
    body = {
        "user": "bob\u0000",
        "starts_at": "2026-12-24T09:00:00Z",
        "ends_at": "2026-12-25T09:00:00Z",
    }
    response = api.post(f"{API}/schedules/{schedule.pk}/overrides/", body, format="json")
    body = assert_json_error(response, 400)
    assert "user" in body["errors"]


def test_integration_default_service_longer_than_its_column_is_400(api):
    long_name = "s" * 101
    response = api.post(
        f"{API}/integrations/",
        {"name": "Grafana", "kind": "grafana", "default_service": long_name},
        format="json",
    )
    body = assert_json_error(response, 400)
    assert "default_service" in body["errors"]
    integration = Integration.objects.create(name="x", kind="generic", token_hash="h" * 64)
    response = api.patch(
        f"{API}/integrations/{integration.pk}/", {"default_service": long_name}, format="json"
    )
    body = assert_json_error(response, 400)
    assert "default_service" in body["errors"]
    integration.refresh_from_db()
    assert integration.default_service is None


def test_channel_name_with_a_lone_surrogate_is_400_and_not_stored(api):
    response = api.post(
        f"{API}/channels/",
        raw({"kind": "email", "target": "ops@treebeard.test"}, "name", '"ops\\ud800"'),
        content_type="application/json",
    )
    body = assert_json_error(response, 400)
    assert "name" in body["errors"]
    assert not Channel.objects.exists()


# --- query strings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["q=a%00b", "service=api%00", "status=%00", "a%00=1"],
)
def test_nul_in_an_incident_filter_is_400_naming_the_parameter(api, incident, query):
    body = assert_json_error(api.get(f"{INCIDENTS}?{query}"), 400)
    assert "NUL" in body["detail"]
    assert body["errors"]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/oncall/?schedule=a%00b", "schedule"),
        ("/schedules/{id}/shifts/?user=a%00b", "user"),
        ("/schedules/{id}/calendar.ics?user=a%00b", "user"),
    ],
)
def test_nul_in_an_oncall_query_is_400(api, schedule, path, parameter):
    response = api.get(API + path.format(id=schedule.pk))
    body = assert_json_error(response, 400)
    assert list(body["errors"]) == [parameter]


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00%2B14:00", "9999-12-31", "0001-01-01"],
)
def test_detection_filters_outside_what_a_date_can_hold_are_400(api, value):
    for name in ("detected_after", "detected_before"):
        body = assert_json_error(api.get(f"{INCIDENTS}?{name}={value}"), 400)
        assert name in body["errors"]


@pytest.mark.parametrize(
    "path",
    [
        f"{INCIDENTS}?detected_after=2026-06-25T15:56:12%2B17:18",
        f"{INCIDENTS}?detected_before=2026-06-25T15:56:12-17:18",
        f"{API}/oncall/?at=2026-06-25T15:56:12%2B17:18",
    ],
)
def test_query_times_with_offsets_postgresql_refuses_are_read_in_utc(api, incident, path):
    """Python takes offsets up to ±23:59, PostgreSQL only to ±15:59 (found by
    tests/test_api_fuzz.py: a 500)."""
    assert api.get(path).status_code == 200


def test_oncall_at_far_in_the_future_is_400_naming_at(api, schedule):
    body = assert_json_error(api.get(f"{API}/oncall/?at=9999-12-31T23:59:59-12:00"), 400)
    assert "at" in body["errors"]


@pytest.mark.parametrize("page", [BIG, "99999999999999999999999"], ids=["5000-digits", "23-digits"])
def test_a_page_past_the_last_is_404_however_far_past(api, incident, page):
    body = assert_json_error(api.get(f"{INCIDENTS}?page={page}"), 404)
    assert body["detail"] == "Invalid page."


def test_a_huge_page_size_is_the_largest_page(api, incident):
    response = api.get(f"{INCIDENTS}?page_size=99999999999999999999999")
    assert response.status_code == 200, response.content[:300]
    assert [row["ref"] for row in response.json()["results"]] == [incident.ref]


def test_long_or_broken_query_values_are_echoed_short(api):
    body = assert_json_error(api.get(f"{INCIDENTS}?open={'x' * 5000}"), 400)
    assert len(body["detail"]) < 200


# --- path segments -------------------------------------------------------------------


@pytest.mark.parametrize("segment", ["%00", "a%00b"])
def test_nul_in_a_path_segment_is_400(api, segment):
    for path in (
        f"{INCIDENTS}{segment}/",
        f"{API}/schedules/{segment}/",
        f"{API}/channels/{segment}/",
    ):
        body = assert_json_error(api.get(path), 400)
        assert body["errors"] == {"path": [body["detail"]]}


@pytest.mark.parametrize("segment", ["99999999999999999999999", BIG, "%ff", "%ED%A0%80", "-1"])
def test_ids_past_bigint_or_broken_encoding_are_404(api, schedule, segment):
    for path in (
        f"{API}/schedules/{segment}/",
        f"{API}/channels/{segment}/",
        f"{API}/integrations/{segment}/",
        f"{INCIDENTS}{segment}/",
    ):
        assert_json_error(api.get(path), 404)


def test_deleting_an_override_id_past_bigint_is_404(api, schedule):
    response = api.delete(f"{API}/schedules/{schedule.pk}/overrides/{BIG}/")
    assert_json_error(response, 404)
