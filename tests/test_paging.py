"""Nobody paged is never silent (issue 9, item 12): a level whose page
reaches nobody moves on at once and says so on the timeline, the incident
header and the board row; the flash and the API name who was paged and how;
the timeline and the ladder show each page queued, delivered or failed as
its outbox row says."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from incidents import services
from incidents.engine import sla
from incidents.models import (
    ContactMethod,
    EventKind,
    Incident,
    IncidentEscalationStep,
    Notification,
)
from incidents.notify import outbox
from tests import factories
from tests.api_support import incident_url, token_client
from tests.engine_support import (
    BUSINESS_PEOPLE,
    BUSINESS_SCHEDULES,
    MIN,
    T0,
    TECHNICAL_PEOPLE,
    TECHNICAL_SCHEDULES,
    channel_messages,
    events,
    everything_channel,
    fresh,
    paged,
    pending_levels,
    put_on_call,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOBODY_REACHABLE = "nobody reachable (contact methods paused or missing)"


def staff(*levels: int, business: tuple[int, ...] = ()) -> None:
    """Put the guide's test person on call at these levels only."""
    for level in levels:
        put_on_call(TECHNICAL_SCHEDULES[level], TECHNICAL_PEOPLE[level])
    for level in business:
        put_on_call(BUSINESS_SCHEDULES[level], BUSINESS_PEOPLE[level])


def user(username: str):
    return get_user_model().objects.get(username=username)


def step(incident: Incident, level: int, path: str = "technical") -> IncidentEscalationStep:
    return IncidentEscalationStep.objects.get(incident=incident, path=path, level=level)


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


# --- declaration -----------------------------------------------------------------------


def test_an_empty_l1_pages_l2_at_once_at_declaration_and_says_so(bob):
    staff(2, 3, 4)

    incident = factories.declare(actor=bob, severity="P1")

    incident = fresh(incident)
    assert incident.escalation_level == 2
    assert paged(incident) == ["sam"]
    [event] = events(incident, EventKind.ESCALATED)
    assert event.message == "L1: nobody on call — paged L2 Senior engineer: sam"
    assert (event.before, event.after) == ({"escalation_level": 1}, {"escalation_level": 2})
    assert event.detail["skipped"] == [
        {"level": 1, "name": "On-call engineer", "why": "nobody_on_call"}
    ]
    assert event.detail["nobody_paged"] is False
    # Sam's page points at this event; L2 is not waited for, L3 keeps its minute.
    assert Notification.objects.get(recipient__username="sam").event_id == event.pk
    assert pending_levels(incident) == [3]
    assert (step(incident, 1).notified, step(incident, 2).notified) == ([], ["sam"])
    assert step(incident, 1).reached_at == step(incident, 2).reached_at == T0


@pytest.mark.parametrize(
    "methods",
    [
        pytest.param([("email", "dana@pager.test", False)], id="paused"),
        pytest.param([], id="missing"),
        pytest.param([("slack", "U024BE7LH", True)], id="slack-only"),
    ],
)
def test_an_l1_nobody_can_reach_pages_l2_at_once(bob, methods):
    staff(1, 2)
    dana = user("dana")
    ContactMethod.objects.filter(user=dana).delete()
    for kind, value, enabled in methods:
        ContactMethod.objects.create(user=dana, kind=kind, value=value, enabled=enabled)

    incident = factories.declare(actor=bob, severity="P0")

    assert fresh(incident).escalation_level == 2
    assert paged(incident) == ["sam"]
    [event] = events(incident, EventKind.ESCALATED)
    assert event.message == f"L1: {NOBODY_REACHABLE} — paged L2 Senior engineer: sam"
    assert events(incident, EventKind.NOTIFICATION) == []


def test_when_every_level_is_empty_it_says_nobody_could_be_paged_once_and_stops(bob, frozen):
    everything_channel()

    incident = factories.declare(actor=bob, severity="P1")

    incident = fresh(incident)
    [event] = events(incident, EventKind.ESCALATED)
    assert event.message == (
        "L1: nobody on call; L2: nobody on call; L3: nobody on call"
        " — nobody could be paged on the technical path"
    )
    assert event.detail["nobody_paged"] is True and event.detail["paged"] == []
    # The top level for P1 was tried: nothing is left to fire, nothing loops.
    assert incident.escalation_level == 3
    assert pending_levels(incident) == []
    assert paged(incident) == []
    # The channel hears it (its escalation message says nobody is on call).
    assert channel_messages(incident) == ["initial", "escalation"]
    frozen.move_to(T0 + 120 * MIN, tick=False)
    sla.sweep()
    assert len(events(incident, EventKind.ESCALATED)) == 1


def test_a_policy_of_one_empty_level_says_so_without_climbing(bob):
    from incidents.models import EscalationLevel

    EscalationLevel.objects.filter(policy__path="technical", level__gt=1).delete()

    incident = factories.declare(actor=bob, severity="P0")

    [event] = events(incident, EventKind.NOTIFICATION)
    assert event.message == "L1: nobody on call — nobody could be paged on the technical path"
    assert fresh(incident).escalation_level == 1
    assert events(incident, EventKind.ESCALATED) == []


def test_the_business_path_passes_an_empty_level_at_once(bob):
    staff(1, business=(2,))

    incident = factories.declare(actor=bob, severity="P1", customer_impacting=True)

    assert fresh(incident).business_escalation_level == 2
    business = [e for e in events(incident, EventKind.ESCALATED) if e.detail["path"] == "business"]
    [event] = business
    assert event.message.endswith(
        "Business L1: nobody on call — paged Business L2 Customer success manager: carl"
    )
    assert paged(incident) == ["dana", "carl"]


# --- the sweep ---------------------------------------------------------------------------


def test_a_climb_by_the_clock_to_an_empty_level_pages_the_next_one_in_the_same_sweep(bob, frozen):
    staff(1, 3)
    incident = factories.declare(actor=bob, severity="P1")
    assert pending_levels(incident) == [2, 3]

    frozen.move_to(T0 + 15 * MIN, tick=False)
    sla.sweep()

    incident = fresh(incident)
    assert incident.escalation_level == 3
    [event] = events(incident, EventKind.ESCALATED)
    assert event.message == (
        "No acknowledgement within 15 min: escalated to L2 Senior engineer\n"
        "L2: nobody on call — paged L3 Engineering manager: mia"
    )
    assert paged(incident) == ["dana", "mia"]
    # L3's own deadline (30 min) is spent: it was paged now.
    assert pending_levels(incident) == []
    frozen.move_to(T0 + 30 * MIN, tick=False)
    sla.sweep()
    assert paged(incident) == ["dana", "mia"]


def test_a_severity_raise_after_nobody_could_be_paged_tries_l1_again(bob):
    from incidents.models import EscalationLevel

    EscalationLevel.objects.filter(policy__path="technical", level__gt=1).delete()
    incident = factories.declare(actor=bob, severity="P0")
    assert paged(incident) == []
    staff(1)

    services.incident_change_severity(incident=incident, actor=bob, severity="P1", reason="x")

    assert paged(incident) == ["dana"]


# --- header and board --------------------------------------------------------------------


def test_the_header_and_the_board_row_say_a_level_was_passed_over(bob, client_for):
    staff(2, 3, 4)
    incident = factories.declare(actor=bob, severity="P1")
    client = client_for(bob)

    page = html_of(client, incident.get_absolute_url())
    board = html_of(client, "/")

    head = section(page, 'id="incident-head"', "</header>")
    assert "L1: nobody on call — paged L2 Senior engineer: sam" in head
    row = section(board, 'class="incident-row ', "</li>")
    assert "L1: nobody on call — paged L2 Senior engineer: sam" in row
    timeline = section(page, 'id="timeline"', "</ol>")
    assert "L1: nobody on call — paged L2 Senior engineer: sam" in timeline


def test_the_header_and_the_board_row_say_loudly_when_nobody_could_be_paged(bob, client_for):
    incident = factories.declare(actor=bob, severity="P0")
    client = client_for(bob)

    head = section(html_of(client, incident.get_absolute_url()), 'id="incident-head"', "</header>")
    row = section(html_of(client, "/"), 'class="incident-row ', "</li>")

    for html in (head, row):
        assert "nobody could be paged on the technical path" in html
        assert "tag--nobody-paged" in html


def test_a_later_page_that_reaches_someone_clears_the_note(bob, alice, client_for):
    staff(2, 3, 4)
    incident = factories.declare(actor=bob, severity="P0")

    services.incident_escalate(incident=incident, actor=alice, reason="Need the manager")

    head = section(
        html_of(client_for(bob), incident.get_absolute_url()), 'id="incident-head"', "</header>"
    )
    assert "nobody on call" not in head


def test_an_incident_with_everyone_reachable_shows_no_note(bob, client_for):
    staff(1, 2, 3, 4)
    incident = factories.declare(actor=bob, severity="P0")
    client = client_for(bob)

    head = section(html_of(client, incident.get_absolute_url()), 'id="incident-head"', "</header>")
    row = section(html_of(client, "/"), 'class="incident-row ', "</li>")
    assert "nobody" not in head and "nobody" not in row


# --- manual escalation: the flash and the API ---------------------------------------------


def test_the_flash_after_a_manual_escalation_names_who_was_paged_and_how(bob, client_for):
    staff(1, 2)
    everything_channel()
    ContactMethod.objects.create(user=user("sam"), kind="slack", value="U024BE7LH")
    incident = factories.declare(actor=bob, severity="P1")

    response = client_for(bob).post(
        f"/incidents/{incident.ref}/escalate/",
        {"path": "technical", "reason": "Need a DBA"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Escalated to L2 Senior engineer: paged Sam by email and Slack." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("levels", "severity", "flash", "level"),
    [
        (
            (1, 3),
            "P0",
            "Escalated to L2: nobody on call — paged L3 Engineering manager: Mia by email.",
            3,
        ),
        (
            (1,),
            "P1",
            "Escalated to L2: nobody on call; L3: nobody on call"
            " — nobody could be paged on the technical path.",
            3,
        ),
    ],
    ids=["the-next-staffed-level", "nobody-at-all"],
)
def test_the_flash_says_which_levels_had_nobody(bob, client_for, levels, severity, flash, level):
    staff(*levels)
    incident = factories.declare(actor=bob, severity=severity)

    response = client_for(bob).post(
        f"/incidents/{incident.ref}/escalate/",
        {"path": "technical", "reason": "Need help"},
        follow=True,
    )

    assert flash in response.content.decode()
    assert fresh(incident).escalation_level == level


def test_the_api_escalate_answer_lists_who_was_paged_and_how(bob):
    staff(1, 3)
    ContactMethod.objects.create(user=user("mia"), kind="pagerduty", value="a" * 32)
    incident = factories.declare(actor=bob, severity="P0")

    response = token_client(bob).post(
        incident_url(incident.ref, "escalate"), {"reason": "Need help"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["escalation_level"] == 3 and body["ref"] == incident.ref
    assert body["paged"] == [{"username": "mia", "name": "Mia", "methods": ["email", "pagerduty"]}]
    assert body["escalation_message"] == (
        "Escalated to L2: nobody on call — paged L3 Engineering manager: "
        "Mia by email and PagerDuty."
    )


# --- queued, delivered, failed ------------------------------------------------------------


def test_the_timeline_and_the_ladder_follow_each_page_from_queued_to_delivered_or_failed(
    bob, client_for, smtp_sink
):
    staff(1)
    dana = user("dana")
    ContactMethod.objects.create(user=dana, kind="email", value="dana.old@pager.test")
    smtp_sink.refused_recipients.add("dana.old@pager.test")
    incident = factories.declare(actor=bob, severity="P1")
    client = client_for(bob)
    good = Notification.objects.get(recipient=dana, target="dana@pager.test")
    bad = Notification.objects.get(recipient=dana, target="dana.old@pager.test")

    def states() -> tuple[str, str]:
        page = html_of(client, incident.get_absolute_url())
        return section(page, 'id="timeline"', "</ol>\n"), section(
            page, 'id="panel-escalation"', "</details>"
        )

    for html in states():
        assert html.count('Dana by email: <span class="state">queued</span>') == 2
        assert "paged dana" not in html.lower()
    timeline, _ = states()
    assert "Paging L1 On-call engineer: dana" in timeline

    assert outbox.deliver(good.pk) == "delivered"
    for html in states():
        assert 'Dana by email: <span class="state state--met">delivered</span>' in html
        assert html.count("queued") == 1

    assert outbox.deliver(bad.pk) == "failed"
    for html in states():
        assert 'Dana by email: <span class="state state--late">failed</span>' in html
        assert "queued" not in html


def test_the_incident_page_reads_the_page_states_in_a_constant_number_of_queries(
    bob, alice, client_for, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff(1, 2, 3, 4)
    incident = factories.declare(actor=bob, severity="P0")
    client = client_for(bob)
    with CaptureQueriesContext(connection) as few:
        html_of(client, incident.get_absolute_url())
    for reason in ("one", "two", "three"):
        services.incident_escalate(incident=incident, actor=alice, reason=reason)

    with django_assert_num_queries(len(few.captured_queries)):
        html_of(client, incident.get_absolute_url())


def test_while_a_page_is_queued_the_ladder_polls_and_brings_the_new_states(
    bob, client_for, smtp_sink
):
    staff(1)
    incident = factories.declare(actor=bob, severity="P1")
    client = client_for(bob)
    url = incident.get_absolute_url()
    assert f'hx-get="{url}?pages=1"' in html_of(client, url)
    row = Notification.objects.get(recipient__username="dana")

    assert outbox.deliver(row.pk) == "delivered"
    poll = client.get(url, {"pages": "1"}, HTTP_HX_REQUEST="true")

    assert poll.status_code == 200
    html = poll.content.decode()
    assert html.lstrip().startswith('<div id="escalation-ladder"')
    assert "?pages=1" not in html  # nothing waits any more: the poll stops
    event_pages = section(html, f'<ul id="event-pages-{row.event_id}"', "</ul>")
    assert 'hx-swap-oob="true"' in event_pages
    assert 'Dana by email: <span class="state state--met">delivered</span>' in event_pages
    assert "queued" not in html
    assert f'hx-get="{url}?pages=1"' not in html_of(client, url)
