"""/api/schema/ and /api/docs/ answer signed-in people and API tokens only,
unless the operator sets API_DOCS_PUBLIC=true (README, Configuration)."""

from __future__ import annotations

import pytest

from tests.api_support import token_client

pytestmark = pytest.mark.django_db

OPENAPI = "application/vnd.oai.openapi+json"


def test_anonymous_scripts_get_401_for_the_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT=OPENAPI)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert b"openapi" not in response.content


def test_anonymous_browsers_are_sent_to_sign_in_for_the_docs(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs/")


def test_a_bad_token_is_refused_for_the_docs_without_a_redirect(client):
    response = client.get("/api/docs/", HTTP_AUTHORIZATION="Token tbir_not-a-key")
    assert response.status_code == 401


@pytest.mark.parametrize("scope", ["read", "ingest"])
def test_any_valid_token_reads_the_schema(vera, scope):
    response = token_client(vera, scope).get("/api/schema/", HTTP_ACCEPT=OPENAPI)
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_signed_in_people_read_the_schema_and_the_docs(client, vera):
    client.force_login(vera)
    assert client.get("/api/schema/", HTTP_ACCEPT=OPENAPI).status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_api_docs_public_opens_both_to_anyone(client, settings):
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/schema/", HTTP_ACCEPT=OPENAPI).status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_api_docs_public_is_read_strictly(monkeypatch):
    from treebeard_ir.env import env_bool

    assert env_bool("API_DOCS_PUBLIC", False, environ={}) is False
    assert env_bool("API_DOCS_PUBLIC", False, environ={"API_DOCS_PUBLIC": "true"}) is True
    with pytest.raises(Exception, match="API_DOCS_PUBLIC"):
        env_bool("API_DOCS_PUBLIC", False, environ={"API_DOCS_PUBLIC": "maybe"})
