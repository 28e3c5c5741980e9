"""Helpers for the REST API tests: clients that hold a real token, and
shortcuts for the incident URLs."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from incidents.models import TimelineEvent
from incidents.services.tokens import api_token_create

API = "/api/v1"
INCIDENTS = f"{API}/incidents/"

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


def token_client(user, *scopes: str) -> APIClient:
    """An API client authenticated by a fresh token of ``user`` (default
    scopes: read and write), sent as ``Authorization: Token <key>``."""
    _, key = api_token_create(actor=user, user=user, scopes=scopes or ("read", "write"))
    return key_client(key)


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def declare(api: APIClient, **fields) -> dict:
    """Declare through the API (a P1 about checkout unless ``fields`` say
    otherwise); the new incident's JSON."""
    body = {"title": "Checkout API returning 500s", "severity": "P1", **fields}
    response = api.post(INCIDENTS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def kinds(ref: str) -> list[str]:
    """The kinds of the incident's timeline events, oldest first."""
    return list(
        TimelineEvent.objects.filter(incident__ref=ref)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )


def incident_url(ref: str, action: str = "") -> str:
    return f"{INCIDENTS}{ref}/" + (f"{action}/" if action else "")


def assert_json_error(response, status: int) -> dict:
    """The response has ``status`` and a JSON body with a ``detail`` message."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("detail"), str), body
    assert body["detail"].strip(), body
    return body


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
