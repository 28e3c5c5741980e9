"""The status page's management API in the OpenAPI schema: every route and
method documented, and every answer matching what the schema says."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api_support import token_client
from tests.test_api_schema import Conformance, operations

pytestmark = pytest.mark.django_db

ROUTES = {
    "/api/v1/components/": {"get", "post"},
    "/api/v1/components/{id}/": {"get", "patch", "delete"},
    "/api/v1/components/{id}/status/": {"post"},
    "/api/v1/component-groups/": {"get", "post"},
    "/api/v1/component-groups/{id}/": {"get", "patch", "delete"},
    "/api/v1/incidents/{ref}/publish/": {"post"},
    "/api/v1/public-incidents/": {"get"},
    "/api/v1/public-incidents/{id}/": {"get", "patch"},
    "/api/v1/public-incidents/{id}/updates/": {"get", "post"},
}


@pytest.fixture
def schema(alice) -> dict:
    response = token_client(alice).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    return response.json()


def test_every_route_is_documented(schema):
    documented = operations(schema)
    for path, methods in ROUTES.items():
        assert documented.get(path) == methods, path


def test_the_enums_are_the_models(schema):
    components = schema["components"]["schemas"]
    assert components["ComponentStatusEnum"]["enum"] == [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    ]
    # The statuses an update posts are the guide's four, the incidents' own enum.
    post = components["PublicUpdatePostRequest"]["properties"]["status"]
    assert post == {"$ref": "#/components/schemas/IncidentStatusEnum"}


def test_every_answer_matches_its_documented_schema(schema, alice, bob):
    conform = Conformance(schema)
    api = token_client(alice)

    def call(method, template, data=None, **path):
        url = template.format(**path)
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code < 300, (method, url, response.content[:500])
        conform.check(template, method, response)
        return response.json() if response.content else None

    group = call("post", "/api/v1/component-groups/", {"name": "Core"})
    call("get", "/api/v1/component-groups/")
    call("get", "/api/v1/component-groups/{id}/", id=group["id"])
    call("patch", "/api/v1/component-groups/{id}/", {"position": 3}, id=group["id"])
    component = call(
        "post",
        "/api/v1/components/",
        {"name": "API", "group": group["id"], "start_date": "2026-01-01"},
    )
    spare = call("post", "/api/v1/components/", {"name": "Spare"})
    one = "/api/v1/components/{id}/"
    call("get", "/api/v1/components/")
    call("get", one, id=component["id"])
    call("patch", one, {"description": "The API"}, id=component["id"])
    call("post", one + "status/", {"status": "partial_outage"}, id=component["id"])
    call("delete", one, id=spare["id"])

    incident = factories.declare(actor=bob)
    public = call(
        "post",
        "/api/v1/incidents/{ref}/publish/",
        {
            "title": "Errors",
            "impact": "minor",
            "message": "Looking",
            "components": [{"id": component["id"], "status": "major_outage"}],
        },
        ref=incident.ref,
    )
    detail = "/api/v1/public-incidents/{id}/"
    call("get", "/api/v1/public-incidents/")
    call("get", detail, id=public["id"])
    call("patch", detail, {"impact": "major"}, id=public["id"])
    call("post", detail + "updates/", {"status": "resolved", "body": "Fixed"}, id=public["id"])
    call("get", detail + "updates/", id=public["id"])
    call("delete", "/api/v1/component-groups/{id}/", id=group["id"])

    documented = {(p, m) for p, methods in ROUTES.items() for m in methods}
    assert documented - conform.checked == set()
