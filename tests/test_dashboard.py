"""The responder dashboard, through the test client: pages, actions, access,
inline errors and the declare form (the board: test_dashboard_board.py)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import EventKind, Incident, Status
from tests.dashboard_support import HTMX, url
from tests.engine_support import events

pytestmark = pytest.mark.django_db


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
    before = len(events(incident, kind))

    response = client_for(bob).post(url(name, incident), data(bob))

    assert response.status_code == 302
    assert response["Location"] == incident.get_absolute_url()
    written = events(incident, kind)
    assert len(written) == before + 1
    assert written[-1].actor == bob
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
    assert bob in [event.actor for event in events(incident, kind)]


@pytest.mark.parametrize("who", ["vera", "charlie"])
@pytest.mark.parametrize(("name", "prepare", "data", "kind"), ACTIONS, ids=ACTION_IDS)
def test_action_is_forbidden_without_responder_rights(
    request, client_for, bob, incident, who, name, prepare, data, kind
):
    incident = prepare(incident, bob)
    before = events(incident)
    state = Incident.objects.values().get(pk=incident.pk)

    response = client_for(request.getfixturevalue(who)).post(url(name, incident), data(bob))

    assert response.status_code == 403
    assert events(incident) == before
    assert Incident.objects.values().get(pk=incident.pk) == state


@pytest.mark.parametrize(("name", "prepare", "data", "kind"), ACTIONS, ids=ACTION_IDS)
def test_anonymous_action_redirects_to_sign_in_and_writes_nothing(
    client, bob, incident, name, prepare, data, kind
):
    incident = prepare(incident, bob)
    before = len(events(incident))

    response = client.post(url(name, incident), data(bob))

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={incident.get_absolute_url()}"
    assert len(events(incident)) == before


def test_anonymous_htmx_action_redirects_the_whole_window(client, incident):
    response = client.post(url("acknowledge", incident), **HTMX)

    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert events(incident, EventKind.ACKNOWLEDGED) == []


@pytest.mark.parametrize("name", ACTION_IDS)
def test_actions_are_post_only(client_for, bob, incident, name):
    assert client_for(bob).get(url(name, incident)).status_code == 405


def test_take_command_makes_me_commander(client_for, bob, incident):
    services.incident_acknowledge(incident=incident, actor=bob)

    client_for(bob).post(url("assign-role", incident), {"role": "commander", "user": bob.pk})

    assert Incident.objects.get(pk=incident.pk).commander == bob


# --- inline errors -----------------------------------------------------------


def test_resolve_without_root_cause_shows_the_error_inline(client_for, bob, incident):
    before = len(events(incident))

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
    assert len(events(incident)) == before


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
    assert len(events(incident, EventKind.ACKNOWLEDGED)) == 1


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
    assert events(incident, EventKind.UPDATE_POSTED) == []


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
    [declared] = events(incident, EventKind.DECLARED)
    assert declared.actor == bob


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
