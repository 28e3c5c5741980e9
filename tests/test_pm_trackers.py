"""Trackers: managers only; ``base_url`` passes the outbound-address guard;
the token is write-only, so it never appears in an API answer, an admin
page, the audit log, the outbox or the logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.exceptions import PermissionDenied

from incidents.errors import DomainError
from incidents.models import AuditEntry, Notification
from incidents.notify import outbox
from postmortems import services as pm
from postmortems.models import Tracker
from tests.admin_support import form_errors, signed_in, url
from tests.api_support import token_client
from tests.pm_actions_values import GITHUB_TOKEN, JIRA_TOKEN, answer

pytest_plugins = ["tests.pm_actions_support"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen", "no_worker")]

TRACKERS = "/api/v1/trackers/"


def github_body(http_recorder, **fields) -> dict:
    return {
        "kind": "github",
        "name": "GitHub shop",
        "base_url": http_recorder.url(""),
        "project": "acme/shop",
        "token": GITHUB_TOKEN,
        **fields,
    }


def test_a_manager_adds_a_github_tracker_and_never_sees_its_token_again(alice, http_recorder):
    api = token_client(alice)
    created = api.post(TRACKERS, github_body(http_recorder), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert "token" not in body and body["has_token"] is True
    assert body["secret"] is None
    assert (body["kind"], body["project"], body["base_url"]) == (
        "github",
        "acme/shop",
        http_recorder.url(""),
    )
    for answer_ in (api.get(TRACKERS), api.get(f"{TRACKERS}{body['id']}/")):
        assert GITHUB_TOKEN not in answer_.content.decode()
    assert Tracker.objects.get().token == GITHUB_TOKEN


def test_a_webhook_trackers_secret_is_shown_when_created_then_masked(alice, http_recorder):
    api = token_client(alice)
    body = {"kind": "webhook", "name": "Hook", "base_url": http_recorder.url("/t")}
    created = api.post(TRACKERS, body, format="json").json()
    secret = Tracker.objects.get().secret
    assert created["secret"] == secret and len(secret) == 64
    shown = api.get(f"{TRACKERS}{created['id']}/").json()["secret"]
    assert shown.startswith("••••") and secret not in shown
    rotated = api.post(f"{TRACKERS}{created['id']}/rotate-secret/").json()["secret"]
    assert rotated != secret and rotated == Tracker.objects.get().secret


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_url": "http://10.0.0.1/"}, "base_url"),
        ({"base_url": "http://169.254.169.254/latest"}, "base_url"),
        ({"base_url": "http://[::ffff:127.0.0.2]/"}, "base_url"),
        ({"base_url": "file:///etc/passwd"}, "base_url"),
        ({"project": "shop"}, "project"),
        ({"token": ""}, "token"),
        ({"kind": "gitlab"}, "kind"),
        ({"kind": "jira", "project": "ops", "username": "me"}, "project"),
        ({"kind": "jira", "project": "OPS"}, "username"),
    ],
)
def test_a_refused_tracker_is_a_400_naming_the_field(alice, http_recorder, change, field):
    response = token_client(alice).post(TRACKERS, github_body(http_recorder, **change))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Tracker.objects.exists()


def test_the_ssrf_guard_refuses_a_private_base_url_in_the_service(alice, loopback_allowed):
    with pytest.raises(DomainError) as refused:
        pm.tracker_create(
            actor=alice, kind="webhook", name="inside", base_url="http://192.168.1.10/hook"
        )
    assert refused.value.field == "base_url"
    assert "192.168.1.10" in refused.value.message


def test_only_managers_see_or_change_trackers(github, bob, vera):
    for person in (bob, vera):
        api = token_client(person)
        assert api.get(TRACKERS).status_code == 403
        assert api.patch(f"{TRACKERS}{github.pk}/", {"name": "x"}).status_code == 403
        with pytest.raises(PermissionDenied):
            pm.tracker_update(actor=person, tracker=github, name="x")


def test_an_update_keeps_the_token_unless_a_new_one_is_given_and_the_kind_is_fixed(github, alice):
    api = token_client(alice)
    kept = api.patch(f"{TRACKERS}{github.pk}/", {"name": "Shop", "token": ""}, format="json")
    assert kept.status_code == 200, kept.content
    github.refresh_from_db()
    assert (github.name, github.token) == ("Shop", GITHUB_TOKEN)
    api.patch(f"{TRACKERS}{github.pk}/", {"token": "ghp_new"}, format="json")
    github.refresh_from_db()
    assert github.token == "ghp_new"
    kind = api.patch(f"{TRACKERS}{github.pk}/", {"kind": "jira"}, format="json")
    assert kind.status_code == 400 and "kind" in kind.json()["errors"]
    assert api.delete(f"{TRACKERS}{github.pk}/").status_code == 204


def test_the_audit_log_keeps_a_fingerprint_of_the_token_never_the_token(github, jira, alice):
    pm.tracker_update(actor=alice, tracker=github, token="ghp_second_SECRET_value")
    pm.tracker_delete(actor=alice, tracker=jira)
    entries = AuditEntry.objects.filter(object_type="tracker").order_by("id")
    assert [e.action for e in entries] == [
        "tracker_create",
        "tracker_create",
        "tracker_update",
        "tracker_delete",
    ]
    logged = json.dumps([[e.before, e.after, e.object_repr] for e in entries])
    for token in (GITHUB_TOKEN, JIRA_TOKEN, "ghp_second_SECRET_value"):
        assert token not in logged
    update = entries[2]
    assert set(update.after) == {"token"} and update.after["token"].startswith("•••• #")
    audit = token_client(alice).get("/api/v1/audit/").content.decode()
    assert GITHUB_TOKEN not in audit and JIRA_TOKEN not in audit


def test_admin_pages_never_show_the_token(github, jira, alice):
    client = signed_in(alice)
    pages = [
        client.get(url(Tracker, "changelist")),
        client.get(url(Tracker, "change", github.pk)),
        client.get(url(Tracker, "change", jira.pk)),
        client.get(url(Tracker, "add")),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert GITHUB_TOKEN not in html and JIRA_TOKEN not in html


def test_the_admin_saves_trackers_through_the_service(alice, http_recorder, loopback_allowed):
    client = signed_in(alice)
    data = {
        "name": "Inside",
        "kind": "webhook",
        "base_url": "http://10.1.2.3/hook",
        "project": "",
        "username": "",
        "token": "",
        "enabled": "on",
    }
    refused = client.post(url(Tracker, "add"), data)
    assert "base_url" in form_errors(refused)
    assert not Tracker.objects.exists()
    saved = client.post(url(Tracker, "add"), {**data, "base_url": http_recorder.url("/t")})
    assert saved.status_code == 302
    tracker = Tracker.objects.get()
    assert len(tracker.secret) == 64
    # A blank token on the change form keeps the stored one.
    github = pm.tracker_create(
        actor=alice,
        kind="github",
        name="GH",
        base_url=http_recorder.url(""),
        project="acme/shop",
        token=GITHUB_TOKEN,
    )
    change = {**data, "name": "GH 2", "base_url": github.base_url, "project": "acme/shop"}
    changed = client.post(url(Tracker, "change", github.pk), change)
    assert changed.status_code == 302, form_errors(changed)
    github.refresh_from_db()
    assert (github.name, github.token) == ("GH 2", GITHUB_TOKEN)


def test_the_token_never_reaches_the_logs_or_the_outbox(
    item, github, jira, bob, http_recorder, caplog
):
    caplog.set_level(logging.DEBUG)
    http_recorder.script(
        "/repos/acme/shop/issues",
        [answer(502, {"message": "Bad gateway"}), answer(401, {"message": "Bad credentials"})],
    )
    row = pm.action_item_create_ticket(actor=bob, item=item, tracker=github)
    assert outbox.deliver(row.pk) == "retry"
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    assert outbox.deliver(row.pk) == "failed"
    row.refresh_from_db()
    stored = json.dumps([row.context, row.target, row.last_error, row.response])
    assert "Bad credentials" in row.last_error
    assert GITHUB_TOKEN not in stored
    assert GITHUB_TOKEN not in caplog.text and JIRA_TOKEN not in caplog.text
