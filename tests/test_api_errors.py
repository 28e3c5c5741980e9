"""Every API error is JSON with a message, and input errors name their fields."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from incidents.models import Incident, TimelineEvent
from tests.api_support import API, INCIDENTS, assert_json_error, incident_url, token_client

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def nothing_written() -> tuple[int, int]:
    return Incident.objects.count(), TimelineEvent.objects.count()


# --- 413 -------------------------------------------------------------------------


def test_body_over_one_mib_is_413_and_writes_nothing(api, incident):
    before = nothing_written()
    body = json.dumps({"title": "Big", "severity": "P1", "summary": "x" * MIB})
    assert len(body) > MIB
    response = api.post(INCIDENTS, body, content_type="application/json")
    body = assert_json_error(response, 413)
    assert "1 MiB" in body["detail"]
    assert nothing_written() == before


def test_body_over_one_mib_on_an_action_is_413(api, incident):
    response = api.post(
        incident_url(incident.ref, "updates"),
        json.dumps({"message": "y" * (MIB + 1)}),
        content_type="application/json",
    )
    assert_json_error(response, 413)
    assert not incident.updates.exists()


def test_body_just_under_one_mib_is_read(api):
    filler = "z" * (MIB - 200)
    response = api.post(
        INCIDENTS, {"title": "Big but fine", "severity": "P3", "summary": filler}, format="json"
    )
    assert response.status_code == 201, response.content[:300]
    assert len(Incident.objects.get().summary) == len(filler)


# --- 400 -------------------------------------------------------------------------


def test_malformed_json_is_400_json_with_detail(api):
    response = api.post(INCIDENTS, '{"title": "Broken", ', content_type="application/json")
    body = assert_json_error(response, 400)
    assert "JSON" in body["detail"]
    assert not Incident.objects.exists()


def test_body_that_is_not_an_object_is_400(api, incident):
    body = assert_json_error(api.post(INCIDENTS, "[1, 2]", content_type="application/json"), 400)
    assert body["errors"]
    body = assert_json_error(
        api.patch(incident_url(incident.ref), '"title"', content_type="application/json"), 400
    )
    assert body["errors"]


def test_400_names_every_field_at_fault(api):
    response = api.post(
        INCIDENTS, {"severity": "P7", "services": "api", "is_drill": "maybe"}, format="json"
    )
    body = assert_json_error(response, 400)
    assert set(body) == {"detail", "errors"}
    assert set(body["errors"]) == {"title", "severity", "services", "is_drill"}
    for messages in body["errors"].values():
        assert isinstance(messages, list) and messages
        assert all(isinstance(m, str) and m for m in messages)
    assert body["detail"].startswith("Invalid input.")


def test_400_names_the_item_of_a_list_at_fault(api):
    response = api.post(
        INCIDENTS, {"title": "x", "severity": "P1", "services": ["api", ""]}, format="json"
    )
    body = assert_json_error(response, 400)
    assert list(body["errors"]) == ["services[1]"]
    assert "services[1]" in body["detail"]


def test_400_from_a_service_rule_names_its_field(api):
    # The serializer accepts the time; the service's rule refuses it.
    response = api.post(
        INCIDENTS,
        {"title": "From the future", "severity": "P2", "detected_at": "2999-01-01T00:00:00Z"},
        format="json",
    )
    body = assert_json_error(response, 400)
    assert set(body) == {"detail", "errors"}
    assert body["errors"] == {"detected_at": [body["detail"]]}


def test_unsupported_media_type_is_415_json(api):
    response = api.post(INCIDENTS, "<incident/>", content_type="application/xml")
    assert_json_error(response, 415)


# --- 409 -------------------------------------------------------------------------


def test_illegal_transition_is_409_with_only_a_detail(api, incident):
    api.post(incident_url(incident.ref, "resolve"), {"root_cause": "Bad deploy"}, format="json")
    before = nothing_written()
    response = api.post(incident_url(incident.ref, "acknowledge"))
    body = assert_json_error(response, 409)
    assert set(body) == {"detail"}
    assert incident.ref in body["detail"] and "resolved" in body["detail"]
    assert nothing_written() == before


# --- 401, 403, 404, 405 ----------------------------------------------------------


def test_unknown_route_under_the_api_is_404_json(api, incident):
    for url in (
        f"{API}/nothing-here/",
        f"{API}/severities/P7/",
        incident_url(incident.ref, "explode"),
        f"{API}/incidents/INC%20001/",
    ):
        assert_json_error(api.get(url), 404)


def test_unknown_page_outside_the_api_stays_html(client, bob):
    client.force_login(bob)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_method_not_allowed_is_405_json(api, incident):
    body = assert_json_error(api.delete(incident_url(incident.ref)), 405)
    assert "DELETE" in body["detail"]
    assert_json_error(api.put(incident_url(incident.ref), {}, format="json"), 405)
    assert_json_error(api.get(incident_url(incident.ref, "acknowledge")), 405)
    assert Incident.objects.filter(pk=incident.pk).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("charlie", 403), ("vera", 403)],
)
def test_refusals_are_json(request, incident, who, status):
    client = token_client(request.getfixturevalue(who)) if who else APIClient()
    assert_json_error(client.post(incident_url(incident.ref, "acknowledge")), status)


# --- 429 -------------------------------------------------------------------------


# Throttle counts live in Redis and outlive a test's transaction: each test
# starts with its cache key space empty (tests/conftest.py).


def test_too_many_requests_is_429_with_retry_after(bob, incident):
    api = token_client(bob)
    with override_settings(API_RATE_USER="3/min"):
        for _ in range(3):
            assert api.get(INCIDENTS).status_code == 200
        response = api.get(INCIDENTS)
        body = assert_json_error(response, 429)
        assert 0 < int(response["Retry-After"]) <= 60
        assert body["retry_after"] > 0
        # Writes count too, and are refused without being written.
        before = nothing_written()
        assert_json_error(api.post(incident_url(incident.ref, "acknowledge")), 429)
        assert nothing_written() == before


def test_rate_limit_is_per_person(bob, alice):
    with override_settings(API_RATE_USER="1/min"):
        assert token_client(bob).get(INCIDENTS).status_code == 200
        assert token_client(bob).get(INCIDENTS).status_code == 429
        assert token_client(alice).get(INCIDENTS).status_code == 200


def test_default_rate_leaves_ordinary_use_alone(bob):
    api = token_client(bob)
    assert all(api.get(INCIDENTS).status_code == 200 for _ in range(30))


@pytest.mark.parametrize("rate", ["fast", "0/min", "10/week"])
def test_a_malformed_rate_setting_stops_start_up_naming_it(rate):
    env = {**os.environ, "API_RATE_USER": rate, "DJANGO_SETTINGS_MODULE": "treebeard_ir.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"API_RATE_USER={rate!r}" in result.stderr
