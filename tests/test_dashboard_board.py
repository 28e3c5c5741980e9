"""The board, the polls and htmx partials of the dashboard, and the query
counts of the board and the incident page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from incidents import services
from tests import factories
from tests.dashboard_support import HTMX, url
from tests.page_support import queries

pytestmark = pytest.mark.django_db

# --- board -------------------------------------------------------------------


def test_board_sorts_p0_first_then_oldest(client_for, bob):
    p2 = factories.declare(actor=bob, severity="P2", title="Slow reports")
    p0_old = factories.declare(actor=bob, severity="P0", title="Database down")
    p0_new = factories.declare(actor=bob, severity="P0", title="Cache down")

    text = client_for(bob).get("/").text

    positions = [text.index(i.ref) for i in (p0_old, p0_new, p2)]
    assert positions == sorted(positions)


def test_board_counts_open_incidents_per_severity(client_for, bob):
    factories.declare(actor=bob, severity="P0")
    factories.declare(actor=bob, severity="P0")
    factories.declare(actor=bob, severity="P3")

    text = client_for(bob).get("/").text

    assert re.search(r'sev-count__num">2</span>\s*<span class="sev-count__label">P0 Critical', text)
    assert re.search(r'sev-count__num">1</span>\s*<span class="sev-count__label">P3 Low', text)


def test_board_filters(client_for, bob):
    db = factories.declare(actor=bob, severity="P0", title="Database down", services=["db"])
    web = factories.declare(actor=bob, severity="P2", title="Slow pages", services=["web"])
    client = client_for(bob)

    by_severity = client.get("/", {"severity": "P0"}).text
    by_service = client.get("/", {"service": "web"}).text
    by_text = client.get("/", {"q": "slow"}).text

    assert db.ref in by_severity and web.ref not in by_severity
    assert web.ref in by_service and db.ref not in by_service
    assert web.ref in by_text and db.ref not in by_text


def test_board_shows_acknowledge_only_when_unacknowledged(client_for, bob):
    open_one = factories.declare(actor=bob, title="Nobody on it")
    acked = factories.declare(actor=bob, title="On it")
    services.incident_acknowledge(incident=acked, actor=bob)

    text = client_for(bob).get("/").text

    assert f'aria-label="Acknowledge {open_one.ref}"' in text
    assert f'aria-label="Acknowledge {acked.ref}"' not in text


def test_acknowledge_from_the_board_returns_to_the_board(client_for, bob, incident):
    client = client_for(bob)

    plain = client.post(url("acknowledge", incident) + "?severity=P1", {"from": "board"})
    assert plain.status_code == 302 and plain["Location"] == "/?severity=P1"

    again = client.post(url("acknowledge", incident), {"from": "board"}, **HTMX)
    assert again.status_code == 409
    assert again.text.lstrip().startswith('<div id="board-list"')
    assert "already acknowledged" in again.text


def test_board_shows_resolved_in_the_last_day_collapsed(client_for, bob, incident):
    services.incident_resolve(incident=incident, actor=bob, root_cause="Bad deploy")

    text = client_for(bob).get("/").text

    resolved = text.split('<details class="resolved"', 1)[1]
    assert incident.ref in resolved
    assert "Resolved in the last 24 hours" in resolved


def test_board_clock_shows_relative_text_with_tooltip(client_for, bob, incident):
    text = client_for(bob).get("/").text

    clock = re.search(r"<time class=\"clock[^>]*data-due=[^>]*>([^<]+)</time>", text)
    assert clock and re.match(r"Ack due in \d+m \d\ds", clock.group(1))
    assert 'title="Acknowledge due ' in clock.group(0)


# --- htmx partials and polling ----------------------------------------------


def test_board_htmx_request_gets_the_partial_only(client_for, bob, incident):
    page = client_for(bob).get("/")
    partial = client_for(bob).get("/", **HTMX)

    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert partial.text.lstrip().startswith('<div id="board-list"')
    assert 'hx-trigger="every 10s"' in partial.text
    # The full page includes the same partial inside a polite live region.
    assert partial.text.strip()[:40] in page.text
    assert 'aria-live="polite"' in page.text


def test_board_poll_answers_204_until_something_changes(client_for, bob, incident):
    client = client_for(bob)
    since = re.search(r"since=([\d.]+)", client.get("/", **HTMX).text).group(1)

    unchanged = client.get("/", {"since": since}, **HTMX)
    services.incident_acknowledge(incident=incident, actor=bob)
    changed = client.get("/", {"since": since}, **HTMX)

    assert unchanged.status_code == 204
    assert changed.status_code == 200 and "board-list" in changed.text


def test_incident_poll_sends_only_new_events(client_for, bob, incident):
    client = client_for(bob)
    version = re.search(r"\?live=(\d+)", client.get(incident.get_absolute_url()).text).group(1)

    unchanged = client.get(incident.get_absolute_url(), {"live": version}, **HTMX)
    services.incident_post_update(incident=incident, actor=bob, message="Rolling back now")
    changed = client.get(incident.get_absolute_url(), {"live": version}, **HTMX)

    assert unchanged.status_code == 204
    assert changed.status_code == 200
    assert changed.text.lstrip().startswith('<header id="incident-head"')
    assert 'hx-swap-oob="afterbegin:#timeline"' in changed.text
    assert "Rolling back now" in changed.text
    assert "Declared P1" not in changed.text  # old events are not sent again


def test_incident_htmx_get_gets_the_partial(client_for, vera, incident):
    response = client_for(vera).get(incident.get_absolute_url(), **HTMX)

    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="incident"')


def test_csrf_token_travels_in_hx_headers_and_is_enforced(bob, incident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)

    page = client.get(incident.get_absolute_url()).text
    refused = client.post(url("acknowledge", incident), **HTMX)

    assert re.search(
        r"<body hx-headers='\{&quot;X-CSRFToken&quot;: &quot;\w+&quot;\}'", page
    ) or re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"\w+\"\}'", page)
    assert refused.status_code == 403
    token = re.search(r'"X-CSRFToken": "(\w+)"', page).group(1)
    accepted = client.post(url("acknowledge", incident), HTTP_X_CSRFTOKEN=token, **HTMX)
    assert accepted.status_code == 200


# --- query counts ------------------------------------------------------------


def _populate(bob, alice, count: int) -> None:
    for n in range(count):
        incident = factories.declare(
            actor=bob, severity=f"P{n % 4}", title=f"Incident {n}", services=[f"svc{n}", "api"]
        )
        if n % 2:
            services.incident_acknowledge(incident=incident, actor=bob)
            services.incident_assign_role(incident=incident, actor=bob, role="commander", user=bob)
            services.incident_assign_role(
                incident=incident, actor=bob, role="responder", user=alice
            )
        if n % 3 == 0:
            services.incident_resolve(incident=incident, actor=bob, root_cause="x")


# Session, user, two permission lookups, the change marker, the service
# list, open incidents (+4 prefetches: the fourth is their paging events,
# for the row's "L1: nobody on call — paged L2"), the counts, resolved today (+3,
# and +1 for their post-mortems: incidents.lifecycle.links_for),
# on call now (schedules, rotations, overrides; +1 for members once a
# rotation exists: tests/test_oncall_pages.py pins that case), and the
# engine watchdog (oldest due deadline, oldest undelivered notification).
BOARD_QUERIES = 22


def test_board_query_count_does_not_grow_with_incidents(
    client_for, bob, alice, django_assert_num_queries
):
    client = client_for(bob)
    _populate(bob, alice, 2)
    few = queries(client, "/")
    _populate(bob, alice, 10)

    with django_assert_num_queries(BOARD_QUERIES):
        client.get("/")
    assert few == BOARD_QUERIES


def test_incident_page_query_count_does_not_grow_with_its_timeline(
    client_for, bob, alice, incident
):
    client = client_for(bob)
    few = queries(client, incident.get_absolute_url())
    for n in range(8):
        services.incident_post_update(incident=incident, actor=bob, message=f"Update {n}")
        services.incident_assign_role(
            incident=incident, actor=bob, role="commander", user=alice if n % 2 else bob
        )

    assert queries(client, incident.get_absolute_url()) == few
