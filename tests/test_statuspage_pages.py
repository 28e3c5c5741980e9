"""The public HTML pages: home, an incident, a maintenance, the history.

They render from the status page's own tables only, on both hosts, the same
bytes for everyone: no cookie, no CSRF token, no ``Vary: Cookie``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statuspage import services
from tests.sp_public_support import SECRET, STATUS, T0, seed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def page(alice):
    return seed(alice)


def get(client, path, **extra):
    return client.get(path, HTTP_HOST=STATUS, **extra)


def assert_public(response):
    assert response.status_code == 200, response.content[:500]
    assert not response.cookies and "Set-Cookie" not in response
    assert "Cookie" not in response.get("Vary", "")
    assert b"csrfmiddlewaretoken" not in response.content
    assert b"csrftoken" not in response.content
    assert SECRET.encode() not in response.content


def test_home_shows_banner_incidents_components_maintenance_and_past(client, page):
    response = get(client, "/")

    assert_public(response)
    html = response.content.decode()
    assert "TreeBeard status" in html
    assert "Partial System Outage" in html  # the open incident's major impact
    assert "Elevated API error rates" in html
    # Its latest update, not the first.
    assert "A faulty load balancer node" in html
    assert "We are investigating" not in html
    for name in ("Platform", "API", "Dashboard", "Website", "Search"):
        assert f">{name}<" in html
    assert "Partial outage" in html  # the API's status, in words
    assert "Search cluster migration" in html  # upcoming maintenance
    assert "Slow dashboard loading" in html  # resolved 3 days ago
    assert ">API unavailable</a>" not in html  # 20 days ago: in the bars and the history
    assert "No incidents reported." in html
    assert f'href="/incidents/{page["current"].code}"' in html
    assert 'href="/history"' in html
    assert 'id="subscribe"' in html


def test_home_has_90_focusable_bars_per_component_with_labels(client, page):
    html = get(client, "/").content.decode()

    assert html.count('class="bar ') == 4 * 90
    assert html.count('tabindex="0" aria-label="') >= 4 * 90
    # The day the API was down for the maintenance that counted as downtime.
    day = T0 - timedelta(days=8)
    assert f"{day:%b} {day.day}, {day.year}\n91.66% uptime" in html
    # Search was created 40 days ago: the days before have no data.
    assert html.count("\nNo data") == 90 - 41


def test_home_on_the_main_host_links_under_status(client, page):
    response = client.get("/status/")

    assert_public(response)
    html = response.content.decode()
    assert f'href="/status/incidents/{page["current"].code}"' in html
    assert 'href="/status/history"' in html


def test_home_shows_when_the_page_was_last_updated(client, page):
    html = get(client, "/").content.decode()

    assert "Last updated" in html
    assert "Nov 25, 2026, 09:40 UTC" in html  # the last public change


def test_the_settings_name_the_page_and_its_links_and_time_zone(client, page, settings):
    settings.STATUS_PAGE_NAME = "Acme"
    settings.STATUS_PAGE_LINKS = [("Support", "https://help.acme.example")]
    settings.STATUS_PAGE_TIME_ZONE = "Europe/Berlin"
    settings.STATUS_PAGE_LOGO_URL = "/static/acme.svg"

    html = get(client, "/").content.decode()

    assert "<title>Acme status</title>" in html
    assert 'href="https://help.acme.example"' in html
    assert 'src="/static/acme.svg" alt="Acme"' in html
    assert "Nov 25, 2026, 10:40 CET" in html
    assert "Times are shown in Europe/Berlin" in html


def test_an_all_clear_page(client, alice):
    services.component_create(actor=alice, name="API")

    response = get(client, "/")

    assert_public(response)
    assert b"All Systems Operational" in response.content
    assert b"banner--none" in response.content


def test_an_empty_page_still_renders(client):
    response = get(client, "/")

    assert_public(response)
    assert b"No components are listed yet." in response.content


def test_the_incident_page_shows_every_update_and_the_components(client, page):
    current = page["current"]

    response = get(client, f"/incidents/{current.code}")

    assert_public(response)
    html = response.content.decode()
    assert "Elevated API error rates" in html
    assert "Some API requests fail with 502 errors" in html
    assert "A faulty load balancer node" in html
    assert "This incident affected: <strong>API</strong>" in html
    assert "API → Partial outage" in html
    assert "Major impact" in html
    assert html.index("A faulty load balancer") < html.index("Some API requests fail")


def test_a_resolved_incident_shows_its_times(client, page):
    html = get(client, f"/incidents/{page['old'].code}").content.decode()

    assert "Resolved" in html and "Lasted" in html and "1\xa0hour" in html


def test_the_maintenance_page(client, page):
    response = get(client, f"/maintenance/{page['done'].code}")

    assert_public(response)
    html = response.content.decode()
    assert "Database upgrade" in html and "Completed" in html
    assert "counts against the components" in html


@pytest.mark.parametrize(
    "path", ["/incidents/nope0000nope", "/incidents/NOT-A-CODE", "/maintenance/zzzzzzzzzzzz"]
)
def test_an_unknown_incident_or_maintenance_is_a_bare_404(client, page, path):
    response = get(client, path)

    assert response.status_code == 404
    assert not response.cookies
    assert b'href="/"' in response.content


def test_history_lists_the_month_newest_first_with_maintenance(client, page):
    response = get(client, "/history")

    assert_public(response)
    html = response.content.decode()
    assert "November 2026" in html
    for name in ("Elevated API error rates", "Slow dashboard loading", "API unavailable"):
        assert name in html
    assert "Database upgrade" in html and "Search cluster migration" in html
    assert html.index("Elevated API error rates") < html.index("API unavailable")
    assert "?month=2026-10" in html and "?month=2026-12" not in html


def test_history_by_month_and_by_page(client, page, alice):
    with_month = get(client, "/history?month=2026-10")
    with_page = get(client, "/history?page=2")

    assert_public(with_month)
    assert b"October 2026" in with_month.content
    assert b"No incidents or maintenance in October 2026." in with_month.content
    assert b"?month=2026-11" in with_month.content
    assert with_page.content == with_month.content


@pytest.mark.parametrize(
    "query", ["month=2026-13", "month=abc", "month=2027-01", "page=0", "page=x", "month=1900-01"]
)
def test_history_refuses_months_it_does_not_have(client, page, query):
    assert get(client, f"/history?{query}").status_code == 404


def test_pages_keep_nothing_internal(client, page):
    paths = [
        "/",
        "/history",
        f"/incidents/{page['current'].code}",
        f"/incidents/{page['old'].code}",
        f"/maintenance/{page['done'].code}",
    ]
    for path in paths:
        response = get(client, path)
        assert_public(response)
        assert b"bob" not in response.content and b"alice" not in response.content
        assert page["current"].incident.ref.encode() not in response.content


def test_a_signed_in_person_gets_the_same_bytes(client_for, client, bob, page):
    anonymous = get(client, "/")
    signed_in = get(client_for(bob), "/")

    assert signed_in.content == anonymous.content
    assert_public(signed_in)


def test_the_page_is_rebuilt_when_something_public_changes(client, page, alice):
    before = get(client, "/").content
    services.public_update_post(
        actor=alice,
        public_incident=page["current"],
        status="monitoring",
        body="A fix is in place; we are monitoring.",
    )

    after = get(client, "/").content

    assert before != after
    assert b"A fix is in place" in after


def test_the_uptime_bars_move_on_at_midnight(client, page, time_machine):
    before = get(client, "/").content.decode()
    time_machine.move_to(T0.replace(hour=23, minute=59) + timedelta(minutes=2), tick=False)

    after = get(client, "/").content.decode()

    assert "Nov 26, 2026\n" in after and "Nov 26, 2026\n" not in before


def test_building_the_home_page_reads_a_constant_number_of_queries(client, page, alice):
    with CaptureQueriesContext(connection) as few:
        get(client, "/")
    for i in range(8):
        component = services.component_create(
            actor=alice, name=f"Extra {i}", group=page["platform"]
        )
        services.component_set_status(actor=alice, component=component, status="major_outage")
    with CaptureQueriesContext(connection) as many:
        response = get(client, "/")

    assert b"Extra 7" in response.content
    assert len(many.captured_queries) == len(few.captured_queries) <= 20
