"""Who may call the API: tokens (hashed, scoped, revocable), sessions with
CSRF, and the group of the person behind either."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.middleware.csrf import get_token
from django.test import RequestFactory
from rest_framework.test import APIClient

from incidents.models import ApiToken, Incident, Integration, SeverityPolicy, TimelineEvent
from incidents.services.tokens import api_token_create, api_token_revoke
from tests import factories
from tests.api_support import (
    API,
    INCIDENTS,
    assert_json_error,
    incident_url,
    key_client,
    token_client,
)

pytestmark = pytest.mark.django_db

NEW_INCIDENT = {"title": "Checkout API returning 500s", "severity": "P1"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot() -> tuple:
    """What any write would change."""
    return (
        Incident.objects.count(),
        TimelineEvent.objects.count(),
        sorted(Incident.objects.values_list("ref", "status", "acknowledged_at", "title")),
    )


# --- no or bad credentials ------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_credentials_is_401_with_www_authenticate(incident, method):
    response = getattr(APIClient(), method)(INCIDENTS)
    assert_json_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header",
    [
        "Token tbir_not-a-real-key",
        "Token not-even-our-prefix",
        "Token",
        "Token two words",
    ],
)
def test_wrong_token_is_401(bob, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(INCIDENTS)
    assert_json_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_revoked_token_is_401(bob):
    token, key = api_token_create(actor=bob, user=bob, scopes=["read"])
    client = key_client(key)
    assert client.get(INCIDENTS).status_code == 200
    api_token_revoke(actor=bob, token=token)
    body = assert_json_error(client.get(INCIDENTS), 401)
    assert "revoked" in body["detail"]


def test_token_of_a_deactivated_user_is_401(bob):
    client = token_client(bob)
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert_json_error(client.get(INCIDENTS), 401)


def test_token_use_is_recorded(bob):
    token, key = api_token_create(actor=bob, user=bob, scopes=["read"])
    assert token.last_used_at is None
    key_client(key).get(INCIDENTS)
    token.refresh_from_db()
    assert token.last_used_at is not None


# --- sessions and CSRF ------------------------------------------------------------


def csrf_pair() -> tuple[str, str]:
    """A CSRF cookie value and a matching (masked) token for the header."""
    request = RequestFactory().get("/")
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


def test_session_reads_and_acts_with_a_csrf_token(bob, incident):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(bob)
    assert client.get(incident_url(incident.ref)).status_code == 200
    cookie, token = csrf_pair()
    client.cookies["csrftoken"] = cookie
    response = client.post(incident_url(incident.ref, "acknowledge"), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_at"] is not None


def test_session_without_csrf_token_cannot_act(bob, incident):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(bob)
    before = snapshot()
    body = assert_json_error(client.post(incident_url(incident.ref, "acknowledge")), 403)
    assert "CSRF" in body["detail"]
    body = assert_json_error(client.post(INCIDENTS, NEW_INCIDENT, format="json"), 403)
    assert "CSRF" in body["detail"]
    assert snapshot() == before


def test_token_calls_need_no_csrf_token(bob, incident):
    _, key = api_token_create(actor=bob, user=bob, scopes=["write"])
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post(incident_url(incident.ref, "acknowledge")).status_code == 200


# --- token scopes -------------------------------------------------------------------


def test_read_scope_can_get_but_not_post(bob, incident):
    client = token_client(bob, "read")
    assert client.get(INCIDENTS).status_code == 200
    assert client.get(incident_url(incident.ref, "timeline")).status_code == 200
    before = snapshot()
    body = assert_json_error(client.post(incident_url(incident.ref, "acknowledge")), 403)
    assert "scope" in body["detail"]
    assert_json_error(client.post(INCIDENTS, NEW_INCIDENT, format="json"), 403)
    assert_json_error(client.patch(incident_url(incident.ref), {"title": "x"}, format="json"), 403)
    assert snapshot() == before


def test_write_scope_can_act(bob, incident):
    client = token_client(bob, "write")
    assert client.post(incident_url(incident.ref, "acknowledge")).status_code == 200
    assert client.post(INCIDENTS, NEW_INCIDENT, format="json").status_code == 201
    response = client.patch(incident_url(incident.ref), {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    # Reading is the read scope's job.
    assert_json_error(client.get(INCIDENTS), 403)


def test_ingest_scope_cannot_declare_incidents_or_call_anything(bob, alice, incident):
    """An ingest key only posts alerts, and alerts go to the integration URLs
    with their own token: declaring an incident is a write and needs ``write``."""
    client = token_client(bob, "ingest")
    before = snapshot()
    for method, url in [
        ("post", INCIDENTS),
        ("get", INCIDENTS),
        ("get", incident_url(incident.ref)),
        ("get", incident_url(incident.ref, "timeline")),
        ("patch", incident_url(incident.ref)),
        ("post", incident_url(incident.ref, "acknowledge")),
        ("post", incident_url(incident.ref, "updates")),
        ("post", incident_url(incident.ref, "escalate")),
        ("get", f"{API}/severities/"),
    ]:
        body = {**NEW_INCIDENT, "source": "support_ticket"} if url == INCIDENTS else {}
        answer = assert_json_error(getattr(client, method)(url, body, format="json"), 403)
        assert "scope" in answer["detail"], (method, url)
    assert "write scope" in answer["detail"]
    assert snapshot() == before

    # Not even a manager's ingest key manages anything else.
    managers_key = token_client(alice, "ingest")
    assert_json_error(
        managers_key.post(f"{API}/integrations/", {"name": "x", "kind": "generic"}, format="json"),
        403,
    )
    assert_json_error(
        managers_key.patch(f"{API}/severities/P0/", {"oncall_required": False}, format="json"), 403
    )
    assert not Integration.objects.exists()


def test_declaring_with_a_token_needs_the_write_scope(bob):
    refused = token_client(bob, "read", "ingest").post(INCIDENTS, NEW_INCIDENT, format="json")
    declared = token_client(bob, "write").post(INCIDENTS, NEW_INCIDENT, format="json")

    assert_json_error(refused, 403)
    assert declared.status_code == 201, declared.content
    assert Incident.objects.count() == 1


# --- groups ------------------------------------------------------------------------------


def test_viewer_reads_but_cannot_act(vera, incident):
    client = token_client(vera)
    assert client.get(INCIDENTS).json()["count"] == 1
    assert client.get(incident_url(incident.ref)).status_code == 200
    assert client.get(incident_url(incident.ref, "timeline")).status_code == 200
    assert client.get(f"{API}/severities/").status_code == 200
    before = snapshot()
    body = assert_json_error(client.post(incident_url(incident.ref, "acknowledge")), 403)
    assert "Viewer" in body["detail"]
    assert_json_error(client.post(INCIDENTS, NEW_INCIDENT, format="json"), 403)
    assert_json_error(
        client.post(incident_url(incident.ref, "updates"), {"message": "hi"}, format="json"), 403
    )
    assert snapshot() == before
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_viewer_session_cannot_act_either(vera, incident):
    client = APIClient()
    client.force_login(vera)
    assert client.get(INCIDENTS).status_code == 200
    assert_json_error(client.post(incident_url(incident.ref, "acknowledge")), 403)


def test_user_without_a_group_is_refused_everything(charlie, incident):
    client = token_client(charlie)
    before = snapshot()
    for method, url in [
        ("get", INCIDENTS),
        ("get", incident_url(incident.ref)),
        ("get", incident_url(incident.ref, "timeline")),
        ("get", incident_url(incident.ref, "roles")),
        ("post", INCIDENTS),
        ("post", incident_url(incident.ref, "acknowledge")),
        ("patch", incident_url(incident.ref)),
        ("get", f"{API}/severities/"),
        ("get", f"{API}/severities/P0/"),
        ("patch", f"{API}/severities/P0/"),
        ("get", f"{API}/integrations/"),
        ("post", f"{API}/integrations/"),
    ]:
        assert_json_error(getattr(client, method)(url, {}, format="json"), 403)
    assert snapshot() == before


def test_responder_acts_on_incidents_but_cannot_manage(bob, incident):
    client = token_client(bob)
    assert client.post(incident_url(incident.ref, "acknowledge")).status_code == 200
    assert client.get(f"{API}/severities/").status_code == 200
    body = assert_json_error(
        client.patch(f"{API}/severities/P0/", {"ack_target_seconds": 60}, format="json"), 403
    )
    assert "managers" in body["detail"]
    assert SeverityPolicy.objects.get(severity="P0").ack_target_seconds == 300
    assert_json_error(client.get(f"{API}/integrations/"), 403)
    assert_json_error(
        client.post(f"{API}/integrations/", {"name": "x", "kind": "generic"}, format="json"), 403
    )
    assert not Integration.objects.exists()


# --- managers: severity policies and integrations ------------------------------------


def test_everyone_with_a_group_reads_the_four_severity_policies(vera):
    rows = token_client(vera).get(f"{API}/severities/").json()
    assert [row["severity"] for row in rows] == ["P0", "P1", "P2", "P3"]
    p0 = rows[0]
    assert (
        p0["ack_target_seconds"],
        p0["resolve_target_seconds"],
        p0["update_cadence_seconds"],
    ) == (300, 3600, 900)
    assert p0["notify_channels"] == ["pagerduty", "slack"]
    assert p0["oncall_required"] is True
    assert rows[3]["ack_target_seconds"] is None


def test_manager_edits_a_severity_policy(alice):
    client = token_client(alice)
    response = client.patch(
        f"{API}/severities/P0/",
        {
            "ack_target_seconds": 240,
            "update_cadence_seconds": 600,
            "notify_channels": ["pagerduty", "slack", "email"],
            "oncall_required": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["ack_target_seconds"] == 240
    policy = SeverityPolicy.objects.get(severity="P0")
    assert (policy.ack_target_seconds, policy.update_cadence_seconds) == (240, 600)
    assert policy.notify_channels == ["pagerduty", "slack", "email"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"notify_channels": ["fax"]}, "notify_channels[0]"),
        ({"notify_channels": ["slack", "fax"]}, "notify_channels[1]"),
        ({"notify_channels": "slack"}, "notify_channels"),
        ({"ack_target_seconds": -5}, "ack_target_seconds"),
        ({"resolve_target_seconds": "soon"}, "resolve_target_seconds"),
        ({"oncall_required": "perhaps"}, "oncall_required"),
    ],
)
def test_invalid_severity_policy_value_is_400_naming_the_field(alice, change, field):
    response = token_client(alice).patch(f"{API}/severities/P0/", change, format="json")
    body = assert_json_error(response, 400)
    assert list(body["errors"]) == [field]
    assert field in body["detail"]
    policy = SeverityPolicy.objects.get(severity="P0")
    assert policy.notify_channels == ["pagerduty", "slack"]
    assert policy.ack_target_seconds == 300


def test_unknown_severity_is_404(alice):
    assert_json_error(token_client(alice).get(f"{API}/severities/P7/"), 404)


def test_manager_creates_an_integration_and_sees_its_token_once(alice):
    client = token_client(alice)
    response = client.post(
        f"{API}/integrations/",
        {
            "name": "Prometheus",
            "kind": "alertmanager",
            "default_service": "API",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    token = body["token"]
    assert len(token) >= 32
    webhook = body["endpoints"]["webhook_url"]
    assert webhook.endswith(f"/api/v1/integrations/{token}/alertmanager/")
    assert webhook.startswith("http")
    assert body["default_service"] == "api"

    # Only the hash is kept; later reads never show the token again.
    integration = Integration.objects.get(pk=body["id"])
    assert integration.token_hash == sha256(token)
    row = Integration.objects.filter(pk=integration.pk).values().get()
    assert not any(token in str(value) for value in row.values())
    for url in (f"{API}/integrations/", f"{API}/integrations/{integration.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert token not in response.content.decode()
    assert client.get(f"{API}/integrations/{integration.pk}/").json()["endpoints"] == {}


def test_rotating_an_integration_token_shows_the_new_one_once(alice):
    client = token_client(alice)
    first = client.post(
        f"{API}/integrations/", {"name": "Grafana", "kind": "grafana"}, format="json"
    ).json()
    response = client.post(f"{API}/integrations/{first['id']}/rotate-token/")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token != first["token"]
    assert token in response.json()["endpoints"]["webhook_url"]
    assert Integration.objects.get(pk=first["id"]).token_hash == sha256(token)


def test_invalid_integration_is_400_naming_the_field(alice):
    client = token_client(alice)
    body = assert_json_error(
        client.post(f"{API}/integrations/", {"name": "x", "kind": "fax"}, format="json"), 400
    )
    assert list(body["errors"]) == ["kind"]
    body = assert_json_error(
        client.post(
            f"{API}/integrations/",
            {
                "name": "x",
                "kind": "generic",
                "severity_mapping": {"critical": "P9"},
            },
            format="json",
        ),
        400,
    )
    assert list(body["errors"]) == ["severity_mapping"]
    assert not Integration.objects.exists()


# --- API tokens: hashed, shown once, created by a command ------------------------------


def test_api_token_is_stored_only_as_its_hash(bob):
    token, key = api_token_create(actor=bob, user=bob, scopes=["read"])
    assert token.key_hash == sha256(key)
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(key in str(value) for value in row.values())
    assert key_client(key).get(INCIDENTS).status_code == 200


def run_create_api_token(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().splitlines()


def test_create_api_token_prints_the_key_alone_on_its_last_line(bob, incident):
    lines = run_create_api_token("bob", "--scope", "read")
    key = lines[-1]
    assert key == key.strip() and " " not in key and len(key) > 32
    assert all(key not in line for line in lines[:-1])
    token = ApiToken.objects.get(key_hash=sha256(key))
    assert token.user == bob
    assert token.scopes == ["read"]
    client = key_client(key)
    assert client.get(incident_url(incident.ref)).status_code == 200
    assert_json_error(client.post(incident_url(incident.ref, "acknowledge")), 403)


def test_create_api_token_defaults_to_read_and_write(bob, incident):
    key = run_create_api_token("bob")[-1]
    assert ApiToken.objects.get(key_hash=sha256(key)).scopes == ["read", "write"]
    assert key_client(key).post(incident_url(incident.ref, "acknowledge")).status_code == 200


def test_create_api_token_takes_several_scopes(bob):
    key = run_create_api_token("bob", "--scope", "read", "--scope", "ingest")[-1]
    assert ApiToken.objects.get(key_hash=sha256(key)).scopes == ["read", "ingest"]


def test_create_api_token_for_an_unknown_user_fails(db):
    with pytest.raises(CommandError, match="nobody"):
        run_create_api_token("nobody")
    assert not ApiToken.objects.exists()


def test_create_api_token_refuses_an_unknown_scope(bob):
    with pytest.raises(CommandError):
        run_create_api_token("bob", "--scope", "admin")
    assert not ApiToken.objects.exists()


def test_command_made_token_stops_working_when_revoked(bob):
    key = run_create_api_token("bob", "--scope", "read")[-1]
    client = key_client(key)
    assert client.get(INCIDENTS).status_code == 200
    api_token_revoke(actor=bob, token=ApiToken.objects.get(key_hash=sha256(key)))
    assert_json_error(client.get(INCIDENTS), 401)


def test_tokens_of_two_people_act_as_each(bob, incident):
    dora = factories.responder("dora")
    token_client(dora).post(incident_url(incident.ref, "acknowledge"))
    event = TimelineEvent.objects.get(incident=incident, kind="acknowledged")
    assert event.actor == dora
