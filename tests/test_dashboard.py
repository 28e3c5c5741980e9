"""The responder dashboard, through the test client: pages, actions, access,
inline errors, htmx partials and the board's query count."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from incidents.models import EventKind, Incident, Status, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, incident: Incident) -> str:
    return reverse(f"incidents:{name}", kwargs={"ref": incident.ref})


def events(incident: Incident, kind: str | None = None):
    rows = TimelineEvent.objects.filter(incident=incident)
    return rows.filter(kind=kind) if kind else rows


# --- every action: its URL name, how to prepare the incident, what to post,
# --- and the timeline event it must write.


def _nothing(incident, bob):
    return incident


def _with_bob_responding(incident, bob):
    return services.incident_assign_role(incident=incident, actor=bob, role="responder", user=bob)


def _resolved(incident, bob):
    return services.incident_resolve(incident=incident, actor=bob, root_cause="Bad deploy")


ACTIONS = [
    ("acknowledge", _nothing, lambda bob: {}, EventKind.ACKNOWLEDGED),
    (
        "assign-role",
        _nothing,
        lambda bob: {"role": "commander", "user": bob.pk},
        EventKind.ROLE_ASSIGNED,
    ),
    (
        "relieve-role",
        _with_bob_responding,
        lambda bob: {"role": "responder", "user": bob.pk},
        EventKind.ROLE_RELIEVED,
    ),
    (
        "update",
        _nothing,
        lambda bob: {
            "message": "Failing over to the replica",
            "status": "identified",
            "visibility": "public",
        },
        EventKind.UPDATE_POSTED,
    ),
    (
        "status",
        _nothing,
        lambda bob: {"status": "identified", "note": "Disk full"},
        EventKind.STATUS_CHANGED,
    ),
    (
        "severity",
        _nothing,
        lambda bob: {"severity": "P0", "reason": "All regions now"},
        EventKind.SEVERITY_CHANGED,
    ),
    ("mitigate", _nothing, lambda bob: {"note": "Rolled back"}, EventKind.MITIGATED),
    (
        "resolve",
        _nothing,
        lambda bob: {"root_cause": "Disk full on primary", "resolution": "Grew the volume"},
        EventKind.RESOLVED,
    ),
    ("reopen", _resolved, lambda bob: {"reason": "Errors are back"}, EventKind.REOPENED),
]
ACTION_IDS = [a[0] for a in ACTIONS]


# --- pages -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["vera", "bob", "alice"])
def test_board_and_incident_page_render_for_every_group(request, client_for, incident, who):
    client = client_for(request.getfixturevalue(who))

    board = client.get("/")
    page = client.get(incident.get_absolute_url())

    assert board.status_code == 200
    assert incident.ref in board.text and "P1 High" in board.text
    assert page.status_code == 200
    assert incident.title in page.text
    assert "TreeBeard IR" in page.text


@pytest.mark.parametrize("who", ["bob", "alice"])
def test_declare_form_renders_for_responders_and_managers(request, client_for, who):
    response = client_for(request.getfixturevalue(who)).get(reverse("incidents:declare"))

    assert response.status_code == 200
    # Each severity shows its policy's name and response time as help.
    assert "P0 Critical" in response.text and "Immediate (&lt; 5 minutes)" in response.text


def test_nav_shows_admin_only_to_managers(client_for, alice, bob):
    assert 'href="/admin/"' in client_for(alice).get("/").text
    assert 'href="/admin/"' not in client_for(bob).get("/").text


def test_viewer_sees_no_action_buttons(client_for, vera, incident):
    client = client_for(vera)

    board = client.get("/").text
    page = client.get(incident.get_absolute_url()).text

    # The only form that posts is "Sign out".
    assert board.count('method="post"') == 1 and page.count('method="post"') == 1
    assert ">Acknowledge</button>" not in board and "Declare incident" not in board
    assert 'id="composer"' not in page and "Take command" not in page


def test_viewer_cannot_open_the_declare_form(client_for, vera):
    assert client_for(vera).get(reverse("incidents:declare")).status_code == 403


@pytest.mark.parametrize("path", ["/", "/incidents/new/", "INCIDENT"])
def test_user_without_group_is_refused_everywhere(client_for, charlie, incident, path):
    path = incident.get_absolute_url() if path == "INCIDENT" else path

    assert client_for(charlie).get(path).status_code == 403


def test_user_without_group_can_still_sign_out(client_for, charlie):
    response = client_for(charlie).post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


@pytest.mark.parametrize("path", ["/", "/incidents/new/", "INCIDENT"])
def test_anonymous_is_sent_to_sign_in(client, incident, path):
    path = incident.get_absolute_url() if path == "INCIDENT" else path

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_sign_in_page_renders(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert 'autocomplete="current-password"' in response.text


def test_unknown_incident_is_404(client_for, bob):
    assert client_for(bob).get("/incidents/INC-19990101-001/").status_code == 404


# --- primary action per state (UI.md) ---------------------------------------


def _primary(html: str) -> str:
    head = html.split('id="incident-head"', 1)[1].split("</header>", 1)[0]
    return re.findall(r'class="btn btn--primary btn--lg"[^>]*>([^<]+)<', head)[0]


def test_primary_action_follows_the_guide(client_for, bob, incident):
    client = client_for(bob)
    page = incident.get_absolute_url()

    assert _primary(client.get(page).text) == "Acknowledge"
    services.incident_acknowledge(incident=incident, actor=bob)
    assert _primary(client.get(page).text) == "Take command"
    services.incident_assign_role(incident=incident, actor=bob, role="commander", user=bob)
    assert _primary(client.get(page).text) == "Post update"


# --- actions -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "prepare", "data", "kind"), ACTIONS, ids=ACTION_IDS)
def test_responder_action_writes_its_timeline_event(
    client_for, bob, incident, name, prepare, data, kind
):
    incident = prepare(incident, bob)
    before = events(incident, kind).count()

    response = client_for(bob).post(url(name, incident), data(bob))

    assert response.status_code == 302
    assert response["Location"] == incident.get_absolute_url()
    written = events(incident, kind)
    assert written.count() == before + 1
    assert written.first().actor == bob
    # The success message shows on the page it redirects to.
    follow = client_for(bob).get(incident.get_absolute_url())
    assert 'class="flash flash--success"' in follow.text


@pytest.mark.parametrize(("name", "prepare", "data", "kind"), ACTIONS, ids=ACTION_IDS)
def test_htmx_action_answers_with_the_incident_partial(
    client_for, bob, incident, name, prepare, data, kind
):
    incident = prepare(incident, bob)

    response = client_for(bob).post(url(name, incident), data(bob), **HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="incident"')
    assert events(incident, kind).filter(actor=bob).exists()


@pytest.mark.parametrize("who", ["vera", "charlie"])
@pytest.mark.parametrize(("name", "prepare", "data", "kind"), ACTIONS, ids=ACTION_IDS)
def test_action_is_forbidden_without_responder_rights(
    request, client_for, bob, incident, who, name, prepare, data, kind
):
    incident = prepare(incident, bob)
    before = list(events(incident).values_list("id", flat=True))
    state = Incident.objects.values().get(pk=incident.pk)

    response = client_for(request.getfixturevalue(who)).post(url(name, incident), data(bob))

    assert response.status_code == 403
    assert list(events(incident).values_list("id", flat=True)) == before
    assert Incident.objects.values().get(pk=incident.pk) == state


@pytest.mark.parametrize(("name", "prepare", "data", "kind"), ACTIONS, ids=ACTION_IDS)
def test_anonymous_action_redirects_to_sign_in_and_writes_nothing(
    client, bob, incident, name, prepare, data, kind
):
    incident = prepare(incident, bob)
    before = events(incident).count()

    response = client.post(url(name, incident), data(bob))

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={incident.get_absolute_url()}"
    assert events(incident).count() == before


def test_anonymous_htmx_action_redirects_the_whole_window(client, incident):
    response = client.post(url("acknowledge", incident), **HTMX)

    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert not events(incident, EventKind.ACKNOWLEDGED).exists()


@pytest.mark.parametrize("name", ACTION_IDS)
def test_actions_are_post_only(client_for, bob, incident, name):
    assert client_for(bob).get(url(name, incident)).status_code == 405


def test_take_command_makes_me_commander(client_for, bob, incident):
    services.incident_acknowledge(incident=incident, actor=bob)

    client_for(bob).post(url("assign-role", incident), {"role": "commander", "user": bob.pk})

    assert Incident.objects.get(pk=incident.pk).commander == bob


# --- inline errors -----------------------------------------------------------


def test_resolve_without_root_cause_shows_the_error_inline(client_for, bob, incident):
    before = events(incident).count()

    response = client_for(bob).post(
        url("resolve", incident), {"root_cause": "  ", "resolution": "Restarted"}
    )

    assert response.status_code == 400
    # The message sits next to the root-cause field, and the input is kept.
    assert re.search(
        r'id="resolve_root_cause".*?class="field-error" id="resolve_root_cause_error">'
        r".*?root_cause is required",
        response.text,
        re.S,
    )
    assert re.search(r">\s*Restarted</textarea>", response.text)
    incident.refresh_from_db()
    assert incident.status == Status.INVESTIGATING and incident.resolved_at is None
    assert events(incident).count() == before


def test_resolve_error_over_htmx_returns_the_partial_with_400(client_for, bob, incident):
    response = client_for(bob).post(url("resolve", incident), {"root_cause": ""}, **HTMX)

    assert response.status_code == 400
    assert "<html" not in response.text and "root_cause is required" in response.text


def test_acknowledging_twice_is_a_conflict(client_for, bob, incident):
    client = client_for(bob)
    assert client.post(url("acknowledge", incident)).status_code == 302

    response = client.post(url("acknowledge", incident))

    assert response.status_code == 409
    assert "is already acknowledged" in response.text
    assert events(incident, EventKind.ACKNOWLEDGED).count() == 1


def test_invalid_choice_is_400_and_changes_nothing(client_for, bob, incident):
    response = client_for(bob).post(url("severity", incident), {"severity": "P9"})

    assert response.status_code == 400
    assert 'id="severity_severity_error"' in response.text
    assert Incident.objects.get(pk=incident.pk).severity == "P1"


def test_empty_update_is_refused_inline(client_for, bob, incident):
    response = client_for(bob).post(
        url("update", incident),
        {"message": "", "status": "investigating", "visibility": "internal"},
    )

    assert response.status_code == 400
    assert 'id="update_message_error"' in response.text
    assert not events(incident, EventKind.UPDATE_POSTED).exists()


def test_acting_on_a_resolved_incident_is_a_conflict(client_for, bob, incident):
    _resolved(incident, bob)

    response = client_for(bob).post(url("mitigate", incident), {"note": "x"})

    assert response.status_code == 409
    assert "reopen it before" in response.text


# --- declare -----------------------------------------------------------------


def post_declare(client, **fields):
    """The declare form, posted with a P0 from monitoring unless ``fields`` say otherwise."""
    return client.post(
        reverse("incidents:declare"), {"severity": "P0", "source": "monitoring", **fields}
    )


def test_declare_opens_the_incident_and_goes_to_its_page(client_for, bob):
    response = post_declare(
        client_for(bob),
        title="Login page down",
        summary="500 on /login",
        impact="Nobody can sign in",
        services="auth, web, auth",
        customer_impacting="on",
    )

    incident = Incident.objects.get(title="Login page down")
    assert response.status_code == 302
    assert response["Location"] == incident.get_absolute_url()
    assert incident.severity == "P0" and incident.customer_impacting and not incident.is_drill
    assert sorted(incident.services.values_list("name", flat=True)) == ["auth", "web"]
    assert events(incident, EventKind.DECLARED).get().actor == bob


def test_declare_errors_show_next_to_their_field(client_for, bob):
    response = post_declare(client_for(bob), title="")

    assert response.status_code == 400
    assert 'id="id_title_error"' in response.text
    assert not Incident.objects.exists()


def test_declare_shows_a_service_error_next_to_services(client_for, bob):
    response = post_declare(client_for(bob), title="x", severity="P2", services="s" * 101)

    assert response.status_code == 400
    assert re.search(r'id="id_services_error">.*?longer than 100', response.text, re.S)
    assert not Incident.objects.exists()


def test_viewer_cannot_declare(client_for, vera):
    response = post_declare(client_for(vera), title="x")

    assert response.status_code == 403
    assert not Incident.objects.exists()


# --- Markdown ----------------------------------------------------------------


def test_update_markdown_is_rendered_and_sanitised(client_for, bob, incident):
    services.incident_post_update(
        incident=incident,
        actor=bob,
        message="**Failing over** now\n\n<script>alert('x')</script>\n\n"
        "[runbook](javascript:alert(1)) <img src=x onerror=alert(2)>",
    )

    page = client_for(bob).get(incident.get_absolute_url()).text

    assert "<strong>Failing over</strong>" in page
    assert "alert('x')" not in page and "<script>alert" not in page
    assert "javascript:" not in page
    assert "onerror" not in page


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
    _resolved(incident, bob)

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


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


# Session, user, two permission lookups, the change marker, the service
# list, open incidents (+4 prefetches: the fourth is their paging events,
# for the row's "L1: nobody on call — paged L2"), the counts, resolved today (+3),
# on call now (schedules, rotations, overrides; +1 for members once a
# rotation exists: tests/test_oncall_pages.py pins that case), and the
# engine watchdog (oldest due deadline, oldest undelivered notification).
BOARD_QUERIES = 21


def test_board_query_count_does_not_grow_with_incidents(
    client_for, bob, alice, django_assert_num_queries
):
    client = client_for(bob)
    _populate(bob, alice, 2)
    few = _queries(client, "/")
    _populate(bob, alice, 10)

    with django_assert_num_queries(BOARD_QUERIES):
        client.get("/")
    assert few == BOARD_QUERIES


def test_incident_page_query_count_does_not_grow_with_its_timeline(
    client_for, bob, alice, incident
):
    client = client_for(bob)
    few = _queries(client, incident.get_absolute_url())
    for n in range(8):
        services.incident_post_update(incident=incident, actor=bob, message=f"Update {n}")
        services.incident_assign_role(
            incident=incident, actor=bob, role="commander", user=alice if n % 2 else bob
        )

    assert _queries(client, incident.get_absolute_url()) == few
