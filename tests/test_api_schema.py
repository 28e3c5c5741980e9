"""The OpenAPI schema (/api/schema/) is valid, complete, and describes what the
server really answers; Swagger UI (/api/docs/) works without the internet."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import jsonschema
import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import get_resolver, resolve
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from incidents.api.urls import router
from tests import factories
from tests.api_support import API, INCIDENT_FIELDS, token_client
from tests.engine_support import staff_both_paths

pytestmark = pytest.mark.django_db

# Every route of the API and the methods it answers (the webhooks are
# documented by the tools that send them).
ROUTES = {
    "/api/v1/incidents/": {"get", "post"},
    "/api/v1/incidents/{ref}/": {"get", "patch"},
    "/api/v1/incidents/{ref}/acknowledge/": {"post"},
    "/api/v1/incidents/{ref}/escalate/": {"post"},
    "/api/v1/incidents/{ref}/mitigate/": {"post"},
    "/api/v1/incidents/{ref}/resolve/": {"post"},
    "/api/v1/incidents/{ref}/reopen/": {"post"},
    "/api/v1/incidents/{ref}/updates/": {"get", "post"},
    "/api/v1/incidents/{ref}/roles/": {"get", "post"},
    "/api/v1/incidents/{ref}/timeline/": {"get"},
    "/api/v1/incidents/{ref}/alerts/": {"get"},
    "/api/v1/severities/": {"get"},
    "/api/v1/severities/{severity}/": {"get", "put", "patch"},
    "/api/v1/integrations/": {"get", "post"},
    "/api/v1/integrations/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/integrations/{id}/rotate-token/": {"post"},
}
HTTP_METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


@pytest.fixture
def schema(alice) -> dict:
    client = APIClient()
    client.force_login(alice)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def operations(schema: dict) -> dict[str, set[str]]:
    return {
        path: {method for method in item if method in HTTP_METHODS}
        for path, item in schema["paths"].items()
    }


# --- valid and complete ----------------------------------------------------------------


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    assert schema["info"]["title"] == "TreeBeard IR API"


def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3.")


def test_schema_documents_every_route_and_method(schema):
    documented = operations(schema)
    for path, methods in ROUTES.items():
        assert path in documented, f"{path} is not documented"
        assert documented[path] == methods, path


def test_schema_documents_nothing_the_server_does_not_route(schema):
    """Each documented operation resolves to a view that handles its method."""
    samples = {
        "{ref}": "INC-20261128-001",
        "{severity}": "P0",
        "{id}": "1",
        "{override_id}": "1",
        "{event_id}": "1",
    }
    for path, methods in operations(schema).items():
        url = path
        for name, value in samples.items():
            url = url.replace(name, value)
        assert "{" not in url, f"no sample value for {path}"
        view = resolve(url).func
        actions = getattr(view, "actions", None)
        if actions is None:  # a plain Django view (the ingestion webhook)
            continue
        assert methods <= set(actions), (path, methods, actions)


def test_every_router_route_is_in_the_schema(schema):
    documented = set(operations(schema))
    for url in router.urls:
        pattern = str(url.pattern)
        if r"\.(?P<format>" in pattern or url.name == "api-root":
            continue  # format-suffix variants and the browsable root
        path = "/api/v1/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern).strip("^$")
        path = path.replace("{pk}", "{id}")  # drf-spectacular's name for a primary key
        assert path in documented, f"{path} ({url.name}) is not documented"


def test_schema_describes_token_and_session_auth(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["tokenAuth"]["description"],
    }
    assert "cookieAuth" in schemes
    for path, item in schema["paths"].items():
        for method in set(item) & HTTP_METHODS:
            names = {name for entry in item[method]["security"] for name in entry}
            assert "tokenAuth" in names, (path, method)


def test_schema_lists_the_incident_filters(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]}
    assert params >= {
        "status",
        "severity",
        "open",
        "service",
        "is_drill",
        "q",
        "detected_after",
        "detected_before",
        "page",
        "page_size",
    }


def test_incident_schema_has_the_documented_fields(schema):
    incident = schema["components"]["schemas"]["Incident"]
    assert set(INCIDENT_FIELDS) <= set(incident["properties"])
    assert set(INCIDENT_FIELDS) <= set(incident["required"])


# --- the schema matches the answers ------------------------------------------------------


def _strict(node):
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a null
    alternative, and objects refuse properties they do not document."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


class Conformance:
    """Checks real responses against the schema of their route, method and status."""

    def __init__(self, schema: dict):
        self.schema = schema
        self.components = _strict(copy.deepcopy(schema["components"]))
        self.checked: set[tuple[str, str]] = set()

    def check(self, template: str, method: str, response) -> None:
        responses = self.schema["paths"][template][method]["responses"]
        status = str(response.status_code)
        assert status in responses, (
            f"{method.upper()} {template} answered {status}; documented: {sorted(responses)}"
        )
        content = responses[status].get("content")
        if content is None:
            assert not response.content, (template, method, status)
        else:
            documented = content["application/json"]["schema"]
            validator = jsonschema.Draft7Validator(
                {**_strict(copy.deepcopy(documented)), "components": self.components}
            )
            errors = sorted(validator.iter_errors(response.json()), key=str)
            assert not errors, f"{method.upper()} {template} {status}: {errors[0].message}"
        self.checked.add((template, method))


def test_every_answer_matches_its_documented_schema(schema, alice, bob):
    conform = Conformance(schema)
    api = token_client(alice)
    # Someone on call at each level, so the escalation below climbs one level.
    staff_both_paths()

    def call(method, template, data=None, query="", **path):
        """``method`` on the route ``template``, its ``{…}`` filled in from ``path``."""
        url = template.format(**path) + query
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code < 300, (method, url, response.content[:500])
        conform.check(template, method, response)
        return response.json() if response.content else None

    ref = call(
        "post",
        "/api/v1/incidents/",
        {
            "title": "Checkout down",
            "severity": "P1",
            "services": ["api"],
            "commander": "bob",
        },
    )["ref"]
    detail = "/api/v1/incidents/{ref}/"
    call("get", "/api/v1/incidents/", query="?open=true")
    call("get", detail, ref=ref)
    call("patch", detail, {"summary": "All checkouts fail"}, ref=ref)
    call("post", detail + "acknowledge/", ref=ref)
    call("post", detail + "roles/", {"role": "commander", "user": "alice"}, ref=ref)
    call("get", detail + "roles/", ref=ref)
    call("post", detail + "updates/", {"message": "Investigating", "visibility": "public"}, ref=ref)
    call("get", detail + "updates/", ref=ref)
    call("post", detail + "escalate/", {"reason": "Slow"}, ref=ref)
    call("post", detail + "mitigate/", {}, ref=ref)
    call("post", detail + "resolve/", {"root_cause": "Deploy"}, ref=ref)
    call("post", detail + "reopen/", {"reason": "Back again"}, ref=ref)
    call("get", detail + "timeline/", ref=ref)

    alert = factories.alert(factories.declare(actor=bob), title="HighErrorRate", manager=alice)
    assert call("get", detail + "alerts/", ref=alert.incident.ref)["count"] == 1

    one_severity = "/api/v1/severities/{severity}/"
    call("get", "/api/v1/severities/")
    call("get", one_severity, severity="P2")
    call("patch", one_severity, {"ack_target_seconds": 1800}, severity="P2")
    policy = api.get(f"{API}/severities/P2/").json()
    writable = {k: v for k, v in policy.items() if k not in ("severity", "updated_at")}
    call("put", one_severity, writable, severity="P2")

    created = call(
        "post",
        "/api/v1/integrations/",
        {"name": "Grafana", "kind": "grafana", "default_service": "web"},
    )
    one = "/api/v1/integrations/{id}/"
    call("get", "/api/v1/integrations/")
    call("get", one, id=created["id"])
    call("patch", one, {"enabled": False}, id=created["id"])
    call("put", one, {"name": "Grafana", "kind": "grafana"}, id=created["id"])
    call("post", one + "rotate-token/", id=created["id"])
    call("delete", one, id=created["id"])

    documented = {(p, m) for p, methods in ROUTES.items() for m in methods}
    assert documented - conform.checked == set()


# --- Swagger UI --------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def _docs_page_and_script(client) -> tuple[str, str, str]:
    """The Swagger UI page, its init script's URL and the script: the script
    is a separate same-origin request (no inline code under the CSP)."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    parser = _Assets()
    parser.feed(html)
    scripts = [url for url in parser.urls if url.startswith("/api/docs/")]
    assert len(scripts) == 1, parser.urls
    script = client.get(scripts[0])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    return html, scripts[0], script.content.decode()


def test_docs_render_from_local_static_files_only(alice):
    client = APIClient()
    client.force_login(alice)
    html, script_url, script = _docs_page_and_script(client)
    assert "SwaggerUIBundle" in script
    assert '"/api/schema/"' in script

    parser = _Assets()
    parser.feed(html)
    assets = [url for url in parser.urls if url != script_url]
    assert len(assets) >= 3  # the stylesheet, the bundle, the preset
    for url in assets:
        assert url.startswith("/static/"), f"{url} is not served by us"
        path = url.removeprefix("/static/").split("?")[0]
        assert finders.find(path), f"{url} does not exist"
    # No CDN, nor any other host, anywhere in the page or its script.
    for text in (html, script):
        assert not re.search(r"(https?:)?//[\w.-]+\.\w+", text.replace("</", "<")), re.search(
            r"(https?:)?//[\w.-]+\.\w+", text
        )


def test_docs_load_the_schema_from_this_server(alice):
    """The URL Swagger UI fetches is the schema view itself."""
    client = APIClient()
    client.force_login(alice)
    _, _, script = _docs_page_and_script(client)
    match = re.search(r'url: "([^"]+)"', script)
    assert match and match.group(1) == "/api/schema/"
    assert resolve(match.group(1)).url_name == "schema"
    assert get_resolver().reverse("schema") == "api/schema/"
