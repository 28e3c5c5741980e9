"""Create ticket: an action item sent to GitHub Issues, Jira or a signed
webhook through the outbox and the guarded client, against a local HTTP
server that answers as those APIs do; a failing tracker is retried and
nothing is lost."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import time_machine

from incidents import clock
from incidents.errors import DomainError
from incidents.models import NotificationStatus
from incidents.notify import outbox, transports
from postmortems import services as pm
from postmortems.models import ActionItem
from postmortems.tickets import ticket_states
from tests.admin_support import signed_in, url
from tests.api_support import token_client
from tests.pm_actions_values import GITHUB_TOKEN, JIRA_TOKEN, answer, ticket_rows

pytest_plugins = ["tests.pm_actions_support"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "no_worker")]

ISSUES = "/repos/acme/shop/issues"
GITHUB_ISSUE = {
    "id": 1,
    "number": 1347,
    "state": "open",
    "title": "Size the connection pool from the worker count",
    "html_url": "https://github.com/acme/shop/issues/1347",
    "url": "https://api.github.com/repos/acme/shop/issues/1347",
}


def state(item):
    item.refresh_from_db()
    return ticket_states([item])[item.pk]


def test_a_github_issue_is_created_through_the_api_and_its_url_stored(
    item, github, bob, http_recorder
):
    http_recorder.script(ISSUES, [answer(201, GITHUB_ISSUE)])
    api = token_client(bob)
    response = api.post(
        f"/api/v1/action-items/{item.pk}/create-ticket/", {"tracker": github.pk}, format="json"
    )
    assert response.status_code == 202, response.content
    assert response.json()["ticket_state"] == "pending"
    assert response.json()["ticket_url"] == ""
    [row] = ticket_rows(item)
    assert GITHUB_TOKEN not in json.dumps(row.context) and GITHUB_TOKEN not in row.target

    assert outbox.deliver(row.pk) == "delivered"

    [request] = http_recorder.requests_to(ISSUES)
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    body = request.json()
    assert set(body) == {"title", "body"}
    assert body["title"] == item.title
    assert "Owner: Bob" in body["body"] and "Due: 2026-11-27" in body["body"]
    item.refresh_from_db()
    assert item.ticket_url == "https://github.com/acme/shop/issues/1347"
    assert item.ticket_state == "open"
    data = api.get(f"/api/v1/action-items/{item.pk}/").json()
    assert (data["ticket_url"], data["ticket_state"]) == (item.ticket_url, "open")
    # One ticket per item.
    again = api.post(
        f"/api/v1/action-items/{item.pk}/create-ticket/", {"tracker": github.pk}, format="json"
    )
    assert again.status_code == 409


def test_a_jira_issue_is_created_with_basic_auth_and_linked_by_its_key(
    item, jira, bob, http_recorder
):
    created = {
        "id": "10042",
        "key": "OPS-12",
        "self": "https://jira.example/rest/api/2/issue/10042",
    }
    http_recorder.script("/jira/rest/api/2/issue", [answer(201, created)])
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=jira)

    assert outbox.deliver(row.pk) == "delivered"

    [request] = http_recorder.requests_to("/jira/rest/api/2/issue")
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"treebeard@example.com:{JIRA_TOKEN}"
    fields = request.json()["fields"]
    assert fields["project"] == {"key": "OPS"}
    assert fields["summary"] == item.title
    assert fields["issuetype"] == {"name": "Task"}
    assert "Checkout down" in fields["description"]
    item.refresh_from_db()
    assert item.ticket_url == f"{jira.base_url}/browse/OPS-12"
    assert state(item).state == "created"


def test_a_webhook_tracker_gets_a_signed_body_and_may_answer_the_tickets_url(
    item, webhook_tracker, bob, http_recorder
):
    http_recorder.script(
        "/tickets", [answer(200, {"url": "https://tracker.example/T-7", "state": "new"})]
    )
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=webhook_tracker)
    assert outbox.deliver(row.pk) == "delivered"

    [request] = http_recorder.requests_to("/tickets")
    assert request.headers["x-treebeard-event"] == "action_item.ticket"
    assert transports.verify_signature(
        webhook_tracker.secret,
        request.body,
        request.headers["x-treebeard-signature"],
        request.headers["x-treebeard-timestamp"],
        now=clock.now(),
    )
    body = request.json()
    assert body["action_item"]["id"] == item.pk
    assert body["action_item"]["owner"] == "bob"
    item.refresh_from_db()
    assert (item.ticket_url, item.ticket_state) == ("https://tracker.example/T-7", "new")


def test_a_failing_tracker_is_retried_through_the_outbox_and_nothing_is_lost(
    item, github, alice, bob, http_recorder, settings
):
    settings.NOTIFY_RETRY_BASE_SECONDS = 5
    http_recorder.script(
        ISSUES, [(500, {"Content-Type": "application/json"}, '{"message": "Server Error"}')]
    )
    http_recorder.script(ISSUES, [answer(201, GITHUB_ISSUE)])
    api = token_client(bob)
    api.post(f"/api/v1/action-items/{item.pk}/create-ticket/", {"tracker": github.pk})
    [row] = ticket_rows(item)

    assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert row.status == NotificationStatus.PENDING and row.last_status_code == 500
    page = signed_in(alice).get(url(ActionItem, "change", item.pk)).content.decode()
    assert "pending: GitHub answered 500: Server Error" in page
    data = api.get(f"/api/v1/action-items/{item.pk}/").json()
    assert data["ticket_state"] == "pending"
    assert "GitHub answered 500: Server Error" in data["ticket_error"]
    assert data["ticket_url"] == ""
    # Asking again while it is on its way is refused: one ticket, not two.
    with pytest.raises(DomainError) as refused:
        pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    assert refused.value.conflict

    with time_machine.travel(row.next_attempt_at + timedelta(seconds=61), tick=False):
        # The relay re-publishes rows no task delivered (a worker would run them).
        assert outbox.relay() == 1
        assert outbox.deliver(row.pk) == "delivered"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.DELIVERED, 2)
    assert len(http_recorder.requests_to(ISSUES)) == 2
    data = api.get(f"/api/v1/action-items/{item.pk}/").json()
    assert data["ticket_url"] == GITHUB_ISSUE["html_url"]
    assert (data["ticket_state"], data["ticket_error"]) == ("open", "")


def test_a_refusal_fails_for_good_is_shown_and_may_be_asked_again(item, github, bob, http_recorder):
    http_recorder.script(
        ISSUES,
        [
            answer(404, {"message": "Not Found"}),
            answer(201, GITHUB_ISSUE),
        ],
    )
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    assert outbox.deliver(row.pk) == "failed"
    assert state(item).state == "failed"
    assert "404: Not Found" in state(item).error

    second = pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    assert second.pk != row.pk
    assert outbox.deliver(second.pk) == "delivered"
    assert state(item).state == "open"


def test_a_rate_limited_github_is_retried_after_its_retry_after(item, github, bob, http_recorder):
    http_recorder.script(
        ISSUES,
        [(403, {"x-ratelimit-remaining": "0", "Retry-After": "60"}, '{"message": "rate"}')],
    )
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    assert outbox.deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert 59 <= (row.next_attempt_at - clock.now()).total_seconds() <= 61


def test_a_201_without_the_issues_url_is_not_taken_for_a_ticket(item, github, bob, http_recorder):
    http_recorder.script(ISSUES, [answer(201, {"html_url": "javascript:alert(1)"})])
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    assert outbox.deliver(row.pk) == "failed"
    item.refresh_from_db()
    assert item.ticket_url == ""


def test_a_disabled_or_unknown_tracker_is_refused_naming_the_tracker(item, github, alice, bob):
    pm.tracker_update(actor=alice, tracker=github, enabled=False)
    for tracker in (github, None):
        with pytest.raises(DomainError) as refused:
            pm.action_item_create_ticket(actor=bob, item=item, tracker=tracker)
        assert refused.value.field == "tracker"
    assert ticket_rows(item) == []
    response = token_client(bob).post(
        f"/api/v1/action-items/{item.pk}/create-ticket/", {"tracker": 999}, format="json"
    )
    assert response.status_code == 400
    assert "tracker" in response.json()["errors"]


def test_the_token_is_read_when_sending_so_a_new_token_is_used_at_once(
    item, github, alice, bob, http_recorder
):
    http_recorder.script(ISSUES, [answer(201, GITHUB_ISSUE)])
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    pm.tracker_update(actor=alice, tracker=github, token="ghp_rotated")
    assert outbox.deliver(row.pk) == "delivered"
    assert http_recorder.requests_to(ISSUES)[0].headers["authorization"] == "Bearer ghp_rotated"


def test_a_tracker_now_resolving_to_a_private_address_is_refused_at_send_time(
    item, github, bob, http_recorder, settings
):
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    settings.NOTIFY_ALLOWED_NETWORKS = []
    assert outbox.deliver(row.pk) == "failed"
    row.refresh_from_db()
    assert "127.0.0.1" in row.last_error
    assert http_recorder.requests == []
