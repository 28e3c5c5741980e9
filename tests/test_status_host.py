"""The status-page host (STATUS_PAGE_HOST) serves the public status page and
nothing else: no sign-in page, dashboard, admin, password reset or API there,
not even as a redirect, and no cookie."""

from __future__ import annotations

import pytest

from tests.test_settings import start

pytestmark = pytest.mark.django_db

STATUS = "status.treebeard.com"

NOT_ON_THE_STATUS_HOST = [
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/password_change/",
    "/admin/",
    "/admin/login/",
    "/admin/password_reset/",
    "/api/v1/incidents/",
    "/api/v1/health/engine/",
    "/api/schema/",
    "/api/docs/",
    "/v2/enqueue",
    "/api/v1/integrations/some-token/generic/",
    "/incidents/new/",
    "/oncall/",
    "/me/",
    "/history/",
    "/statuspage",
]


def assert_bare_404(response):
    assert response.status_code == 404
    assert not response.cookies, response.cookies
    assert "Set-Cookie" not in response
    assert "Location" not in response
    assert b"Sign in" not in response.content and b"csrf" not in response.content.lower()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", NOT_ON_THE_STATUS_HOST)
def test_the_status_host_answers_404_without_cookies_for_everything_else(client, method, path):
    response = getattr(client, method)(path, HTTP_HOST=STATUS)

    assert_bare_404(response)


@pytest.mark.parametrize("host", [STATUS, f"{STATUS}:443", "STATUS.TreeBeard.com"])
def test_the_status_host_is_recognised_with_a_port_and_in_any_case(client, host):
    assert_bare_404(client.get("/accounts/login/", HTTP_HOST=host))


def test_a_signed_in_person_gets_no_dashboard_on_the_status_host(client_for, bob, incident):
    client = client_for(bob)

    assert_bare_404(client.get(incident.get_absolute_url(), HTTP_HOST=STATUS))
    assert_bare_404(client.get("/admin/", HTTP_HOST=STATUS))
    home = client.get("/", HTTP_HOST=STATUS)
    assert home.status_code == 200
    assert incident.title.encode() not in home.content
    assert b"Sign out" not in home.content


def test_the_status_host_home_is_a_public_page_without_cookies(client):
    response = client.get("/", HTTP_HOST=STATUS)

    assert response.status_code == 200
    assert b"TreeBeard status" in response.content
    assert not response.cookies and "Set-Cookie" not in response
    assert b"/accounts/login/" not in response.content and b"/admin/" not in response.content
    assert response["Cache-Control"].startswith("public, max-age=")
    assert "Cookie" not in response.get("Vary", "")


def test_the_status_host_home_refuses_a_post(client):
    response = client.post("/", HTTP_HOST=STATUS)

    assert response.status_code == 405
    assert not response.cookies


@pytest.mark.parametrize("path", ["/history/", "/history.json"])
def test_status_paths_not_built_yet_are_a_bare_404(client, path):
    assert_bare_404(client.get(path, HTTP_HOST=STATUS))


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_on_the_status_host(client, path):
    response = client.get(path, HTTP_HOST=STATUS)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"


def test_the_dashboard_host_still_serves_the_sign_in_page(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b"Sign in" in response.content
    assert client.get("/").status_code == 302


def test_an_unknown_host_is_still_refused(client):
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_start_up_refuses_a_status_host_that_is_the_dashboard_host(tmp_path):
    result = start(tmp_path, SITE_URL="https://ir.example.com", STATUS_PAGE_HOST="IR.example.com")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "STATUS_PAGE_HOST" in result.stderr
