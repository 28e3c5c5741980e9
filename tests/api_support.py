"""Helpers for the REST API tests: clients that hold a real token, and
shortcuts for the incident URLs."""

from __future__ import annotations

from rest_framework.test import APIClient

from incidents.services.tokens import api_token_create

API = "/api/v1"
INCIDENTS = f"{API}/incidents/"


def token_client(user, *scopes: str) -> APIClient:
    """An API client authenticated by a fresh token of ``user`` (default
    scopes: read and write), sent as ``Authorization: Token <key>``."""
    _, key = api_token_create(actor=user, user=user, scopes=scopes or ("read", "write"))
    return key_client(key)


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


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
