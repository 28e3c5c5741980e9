"""/postmortems/: the list with its search and filters, the follow-up
backlog per owner and per service and its weekly trend, and the query
counts of the list and the post-mortem page (constant whatever they hold)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import clock
from postmortems import selectors, services
from postmortems.models import ActionItem, ActionStatus, Feedback, PostmortemStatus
from tests import factories
from tests.pm_dash_support import action_item, fill, resolved_postmortem, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

LIST_QUERIES = 11  # sign-in and access, services, the page and its count, the backlog (3)
PAGE_QUERIES = 15


@pytest.fixture
def three(bob, alice):
    """Three post-mortems: checkout (P1, api), search (P0, search), login (P2 on request)."""
    checkout = resolved_postmortem(bob, title="Checkout API returning 500s")
    search = resolved_postmortem(
        alice, title="Search index stale", severity="P0", services=["search"]
    )
    login = factories.declare(actor=bob, title="Login slow", severity="P2", services=["auth"])
    from incidents import services as incident_services

    incident_services.incident_resolve(incident=login, actor=bob, root_cause="x", resolution="y")
    login_pm = services.postmortem_request(actor=bob, incident=login)
    services.postmortem_update(actor=bob, postmortem=search, summary="Reindexing stalled overnight")
    return checkout, search, login_pm


def rows(response) -> list[str]:
    return [pm.incident.title for pm in response.context["postmortems"]]


def test_the_list_shows_each_postmortem_with_status_owner_due_and_open_actions(
    three, bob, vera, client_for
):
    checkout, _, _ = three
    action_item(checkout, bob)
    action_item(checkout, bob, status=ActionStatus.DONE)
    response = client_for(vera).get(url("list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert sorted(rows(response)) == [
        "Checkout API returning 500s",
        "Login slow",
        "Search index stale",
    ]
    assert "Draft" in html and "Post-mortem due in 2d 0h" in html
    shown = {pm.incident.title: pm.open_items for pm in response.context["postmortems"]}
    assert shown["Checkout API returning 500s"] == 1
    assert 'href="/postmortems/"' in html and 'aria-current="page">Post-mortems' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "reindexing"}, ["Search index stale"]),  # summary text
        ({"q": "checkout api"}, ["Checkout API returning 500s"]),  # title
        ({"severity": "P0"}, ["Search index stale"]),
        ({"service": "auth"}, ["Login slow"]),
        ({"status": "in_review"}, ["Checkout API returning 500s"]),
    ],
)
def test_search_and_filters(three, bob, client_for, query, expected):
    checkout, _, _ = three
    services.postmortem_submit(actor=bob, postmortem=checkout)
    assert rows(client_for(bob).get(url("list"), query)) == expected


def test_search_by_reference_and_the_overdue_filter(three, bob, client_for, later):
    checkout, search, _ = three
    client = client_for(bob)
    assert rows(client.get(url("list"), {"q": search.incident.ref})) == ["Search index stale"]
    assert rows(client.get(url("list"), {"overdue": "yes"})) == []
    later(hours=49)
    fill(checkout, bob)
    services.postmortem_submit(actor=bob, postmortem=checkout)
    services.postmortem_publish(actor=bob, postmortem=checkout)
    overdue = client.get(url("list"), {"overdue": "yes"})
    assert sorted(rows(overdue)) == ["Login slow", "Search index stale"]
    assert "pm-row--late" in overdue.content.decode()


def test_the_backlog_counts_open_and_overdue_items_per_owner_and_per_service(
    three, alice, bob, vera, client_for
):
    checkout, search, _ = three
    today = clock.now().date()
    action_item(checkout, bob, due_date=today - timedelta(days=1))  # overdue
    action_item(checkout, bob, due_date=today + timedelta(days=5))
    action_item(search, alice, due_date=today + timedelta(days=5))
    action_item(search, None, due_date=None)
    action_item(search, alice, status=ActionStatus.DONE)  # closed: not counted

    found = selectors.backlog(now=clock.now())

    owners = {row.name: (row.open, row.overdue) for row in found.by_owner}
    assert owners == {"Bob": (2, 1), "Alice": (1, 0), "Nobody (unassigned)": (1, 0)}
    assert {row.name: (row.open, row.overdue) for row in found.by_service} == {
        "api": (2, 1),
        "search": (2, 0),
    }
    assert (found.open, found.overdue) == (4, 1)
    html = client_for(vera).get(url("list")).content.decode()
    assert "4 open" in html and "1 overdue" in html


def test_the_trend_counts_what_was_open_at_the_end_of_each_week(bob, later):
    postmortem = resolved_postmortem(bob)
    early = action_item(postmortem, bob)  # open from T0
    later(days=14)
    closed = action_item(postmortem, bob, due_date=date(2026, 12, 1))
    later(days=7)
    ActionItem.objects.filter(pk=closed.pk).update(status=ActionStatus.DONE, done_at=clock.now())

    trend = selectors.backlog(now=clock.now()).trend

    assert len(trend) == 12
    assert trend[-1].current and trend[-1].open == 1  # the early one only, now
    assert [point.open for point in trend[-4:]] == [1, 1, 2, 1]
    assert all(point.open == 0 for point in trend[:-4])
    assert early.is_open


def test_the_list_runs_a_constant_number_of_queries(
    three, bob, client_for, django_assert_num_queries
):
    client = client_for(bob)
    client.get(url("list"))  # the session warmed up
    with django_assert_num_queries(LIST_QUERIES):
        client.get(url("list"))
    for _ in range(3):
        more = resolved_postmortem(bob, title="More")
        action_item(more, bob)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(url("list"))


def test_the_page_runs_a_constant_number_of_queries(
    bob, alice, client_for, django_assert_num_queries
):
    postmortem = resolved_postmortem(bob)
    client = client_for(bob)
    client.get(url("detail", postmortem.pk))
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(url("detail", postmortem.pk))
    fill(postmortem, bob)
    for name in ("rita", "rob"):
        factories.responder(name)
    services.postmortem_set_people(actor=bob, postmortem=postmortem, reviewers=["rita", "rob"])
    services.postmortem_set_people(actor=bob, postmortem=postmortem, participants=["rita", "rob"])
    for n in range(3):
        action_item(postmortem, alice, title=f"Item {n}")
        Feedback.objects.create(postmortem=postmortem, rating=4, created_at=clock.now())
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(url("detail", postmortem.pk))
    assert postmortem.status == PostmortemStatus.DRAFT


def test_queries_of_the_selectors_alone():
    with CaptureQueriesContext(connection) as captured:
        selectors.backlog(now=clock.now())
    assert len(captured) == 3
