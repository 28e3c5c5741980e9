"""Channels in the admin: the API's validation as form errors, secrets
masked in lists; deliveries and SLA breaches read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents import clock
from incidents.models import Channel, Notification
from incidents.notify.context import incident_snapshot
from tests.admin_support import form_errors

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]

SECRET_URL = "http://127.0.0.1:9/services/T000/B000/XXXXSECRETXXXX"


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


def url(name: str, *args) -> str:
    return reverse(f"admin:incidents_{name}", args=args)


def test_add_form_refuses_a_private_target_with_the_apis_message(admin_client):
    response = admin_client.post(url("channel_add"), {
        "name": "Metadata", "kind": "webhook", "target": "http://169.254.169.254/", "enabled": "on",
    })  # fmt: skip

    assert "link-local" in " ".join(form_errors(response)["target"])
    assert not Channel.objects.exists()


def test_add_form_without_severities_uses_the_guides_routing(admin_client):
    response = admin_client.post(url("channel_add"), {
        "name": "Slack", "kind": "slack", "target": SECRET_URL, "enabled": "on",
    })  # fmt: skip

    assert response.status_code == 302
    channel = Channel.objects.get()
    assert channel.severities == ["P0", "P1", "P2"]
    assert channel.target == SECRET_URL


def test_change_form_without_severities_goes_back_to_the_guides_routing(admin_client):
    channel = Channel.objects.create(
        name="Slack", kind="slack", target=SECRET_URL, severities=["P0"]
    )
    response = admin_client.post(url("channel_change", channel.pk), {
        "name": "Slack", "target": SECRET_URL, "enabled": "on", "new_secret": "",
    })  # fmt: skip

    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.severities == ["P0", "P1", "P2"]


def test_changelist_masks_secret_targets(admin_client):
    Channel.objects.create(name="Slack", kind="slack", target=SECRET_URL, severities=["P0"])

    page = admin_client.get(url("channel_changelist")).content.decode()

    assert "http://127.0.0.1:9/…" in page
    assert "XXXXSECRETXXXX" not in page


def test_change_page_masks_the_webhook_secret_and_keeps_the_kind(admin_client):
    channel = Channel.objects.create(
        name="Hook", kind="webhook", target="http://127.0.0.1:9/h", severities=["P1"]
    )
    secret = channel.secret

    page = admin_client.get(url("channel_change", channel.pk)).content.decode()
    listed = admin_client.get(url("channel_changelist")).content.decode()
    posted = admin_client.post(url("channel_change", channel.pk), {
        "name": "Hook", "target": "http://127.0.0.1:9/new", "severities": ["P0", "P1"],
        "enabled": "on", "kind": "email", "new_secret": "",
    })  # fmt: skip

    assert f"••••{secret[-4:]}" in page
    assert "X-TreeBeard-Signature" in page
    assert secret not in page and secret[:8] not in page
    assert secret not in listed and secret[:8] not in listed
    assert posted.status_code == 302
    channel.refresh_from_db()
    assert channel.kind == "webhook"
    assert channel.target == "http://127.0.0.1:9/new"
    assert channel.severities == ["P0", "P1"]
    assert channel.secret == secret  # left blank: kept


def _webhook_form(**extra) -> dict:
    return {"name": "Hook", "target": "http://127.0.0.1:9/h", "severities": ["P1"],
            "enabled": "on", **extra}  # fmt: skip


def test_typing_a_new_secret_on_the_change_form_replaces_it_without_echoing_it(admin_client):
    channel = Channel.objects.create(name="Hook", kind="webhook", target="http://127.0.0.1:9/h")
    typed = "receiver-side-secret-0123456789-abcdef"

    posted = admin_client.post(
        url("channel_change", channel.pk), _webhook_form(new_secret=typed), follow=True
    )

    channel.refresh_from_db()
    assert channel.secret == typed
    page = posted.content.decode()
    assert "signing secret replaced (••••cdef)" in page
    assert typed not in page


def test_a_typed_secret_that_is_too_short_is_refused_and_nothing_changes(admin_client):
    channel = Channel.objects.create(name="Hook", kind="webhook", target="http://127.0.0.1:9/new")
    before = channel.secret

    response = admin_client.post(
        url("channel_change", channel.pk), _webhook_form(new_secret="short-secret")
    )

    assert "32 to 64 characters" in " ".join(form_errors(response)["new_secret"])

    assert "short-secret" not in response.content.decode()  # not rendered back
    channel.refresh_from_db()
    assert channel.secret == before
    assert channel.target == "http://127.0.0.1:9/new"


def test_a_new_webhook_shows_its_secret_once_in_a_message(admin_client, caplog):
    created = admin_client.post(url("channel_add"), _webhook_form(kind="webhook"), follow=True)

    channel = Channel.objects.get()
    assert "it is not shown again" in created.content.decode()
    assert channel.secret in created.content.decode()
    later = admin_client.get(url("channel_change", channel.pk)).content.decode()
    assert channel.secret not in later
    assert channel.secret not in caplog.text


def test_a_typed_secret_is_hidden_in_error_reports(admin_client):
    from django.views.debug import ExceptionReporter

    channel = Channel.objects.create(name="Hook", kind="webhook", target="http://127.0.0.1:9/h")
    typed = "receiver-side-secret-0123456789-abcdef"
    response = admin_client.post(url("channel_change", channel.pk), _webhook_form(new_secret=typed))

    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        report = ExceptionReporter(response.wsgi_request, type(exc), exc, exc.__traceback__)
        text = report.get_traceback_text()
    assert "new_secret" in text
    assert typed not in text


def test_rotate_secret_action_changes_webhook_secrets_only(admin_client):
    hook = Channel.objects.create(name="Hook", kind="webhook", target="http://127.0.0.1:9/h")
    slack = Channel.objects.create(name="Slack", kind="slack", target=SECRET_URL)
    before = {hook.pk: hook.secret, slack.pk: slack.secret}

    rotated = admin_client.post(url("channel_changelist"), {
        "action": "rotate_secret", "_selected_action": [hook.pk, slack.pk],
    }, follow=True)  # fmt: skip

    hook.refresh_from_db()
    slack.refresh_from_db()
    assert hook.secret != before[hook.pk]
    assert slack.secret == before[slack.pk]
    # The page no longer shows it, so the message does, once.
    assert "Hook: signing secret" in rotated.content.decode()
    assert hook.secret in rotated.content.decode()
    assert slack.secret not in rotated.content.decode()


def test_deliveries_are_listed_filtered_and_masked(admin_client, incident):
    now = clock.now()
    for status, transport in (("delivered", "slack"), ("failed", "webhook")):
        Notification.objects.create(
            idempotency_key=f"k-{status}", incident=incident, transport=transport,
            target=SECRET_URL, message_kind="initial", context=incident_snapshot(incident),
            status=status, created_at=now, next_attempt_at=now,
        )  # fmt: skip
    failed = Notification.objects.get(status="failed")

    listed = admin_client.get(url("notification_changelist"), {"status": "failed"})
    searched = admin_client.get(url("notification_changelist"), {"q": incident.ref})
    change = admin_client.get(url("notification_change", failed.pk))

    assert list(listed.context["cl"].result_list) == [failed]
    assert searched.context["cl"].result_count == 2
    assert change.status_code == 200
    for page in (listed, change):
        assert "XXXXSECRETXXXX" not in page.content.decode()
    assert admin_client.get(url("notification_add")).status_code == 403


def test_a_slack_channel_has_no_secret_to_set_and_still_saves(admin_client):
    channel = Channel.objects.create(name="Slack", kind="slack", target=SECRET_URL)
    before = channel.secret

    page = admin_client.get(url("channel_change", channel.pk)).content.decode()
    posted = admin_client.post(url("channel_change", channel.pk), {
        "name": "Slack ops", "target": SECRET_URL, "severities": ["P0"], "enabled": "on",
        "new_secret": "ignored-for-slack-0123456789abcdef",
    })  # fmt: skip

    assert "New signing secret" not in page
    assert posted.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Slack ops"
    assert channel.secret == before
