"""Notification channels through the API (/api/v1/channels/): managers only,
targets validated (SSRF guard, formats) and masked, webhook secrets shown once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from incidents.models import Channel
from tests.api_support import API, assert_json_error, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]

CHANNELS = f"{API}/channels/"
ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"


def detail(channel_id: int, action: str = "") -> str:
    return f"{CHANNELS}{channel_id}/" + (f"{action}/" if action else "")


def slack_url(secret: str = "XXXXSECRETXXXX") -> str:  # noqa: S107 - a test URL
    return f"http://127.0.0.1:9/services/T000/B000/{secret}"


def create(client, **fields):
    return client.post(CHANNELS, fields, format="json")


# --- who may -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "vera", "charlie"])
def test_only_managers_may_list_or_create_channels(request, who):
    client = token_client(request.getfixturevalue(who))

    listed = client.get(CHANNELS)
    created = create(client, name="Ops", kind="email", target="ops@treebeard.test")

    assert_json_error(listed, 403)
    assert_json_error(created, 403)
    assert not Channel.objects.exists()


def test_anonymous_is_401(alice):
    assert_json_error(APIClient().get(CHANNELS), 401)


def test_read_token_of_a_manager_may_list_but_not_create(alice):
    client = token_client(alice, "read")

    assert client.get(CHANNELS).status_code == 200
    assert_json_error(create(client, name="Ops", kind="email", target="ops@treebeard.test"), 403)


def test_a_manager_session_may_manage_channels(client_for, alice):
    response = client_for(alice).post(
        CHANNELS, {"name": "Ops", "kind": "email", "target": "ops@treebeard.test"},
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 201


# --- create ------------------------------------------------------------------------


def test_create_slack_channel_shows_the_target_once_and_defaults_severities(manager_api):
    response = create(manager_api, name="#incidents", kind="slack", target=slack_url())

    body = response.json()
    assert response.status_code == 201, body
    assert body["target"] == slack_url()
    assert body["severities"] == ["P0", "P1", "P2"]
    assert body["enabled"] is True
    assert body["secret"] is None
    assert body["last_error"] == ""
    channel = Channel.objects.get(pk=body["id"])
    assert channel.target == slack_url()


@pytest.mark.parametrize(("kind", "target", "severities"), [
    ("email", "oncall@treebeard.test", ["P1", "P3"]),
    ("pagerduty", ROUTING_KEY, ["P0"]),
    ("pagerduty", "R" + ROUTING_KEY[1:], ["P0"]),
    ("webhook", "http://127.0.0.1:9/hook", ["P0", "P1", "P2", "P3"]),
])  # fmt: skip
def test_each_kind_defaults_to_the_guides_routing(manager_api, kind, target, severities):
    response = create(manager_api, name=f"{kind} channel", kind=kind, target=target)

    assert response.status_code == 201, response.json()
    assert response.json()["severities"] == severities


def test_severities_are_deduplicated_and_sorted(manager_api):
    response = create(
        manager_api,
        name="Ops",
        kind="email",
        target="ops@treebeard.test",
        severities=["P2", "P0", "P2"],
    )

    assert response.json()["severities"] == ["P0", "P2"]


def test_webhook_secret_is_shown_on_creation_only(manager_api):
    created = create(
        manager_api, name="Receiver", kind="webhook", target="http://127.0.0.1:9/hook?token=abc"
    ).json()

    channel = Channel.objects.get(pk=created["id"])
    assert created["secret"] == channel.secret
    assert len(created["secret"]) == 64
    shown = manager_api.get(detail(channel.pk)).json()
    listed = manager_api.get(CHANNELS).json()["results"][0]
    assert "secret" not in shown and "secret" not in listed
    assert channel.secret not in str(listed)


# --- masking -----------------------------------------------------------------------


def test_secret_targets_are_masked_in_list_and_detail(manager_api):
    slack = create(manager_api, name="Slack", kind="slack", target=slack_url()).json()
    pager = create(manager_api, name="Pager", kind="pagerduty", target=ROUTING_KEY).json()
    mail = create(manager_api, name="Mail", kind="email", target="ops@treebeard.test").json()

    listed = {c["name"]: c["target"] for c in manager_api.get(CHANNELS).json()["results"]}

    assert listed == {
        "Slack": "http://127.0.0.1:9/…",
        "Pager": "…" + ROUTING_KEY[-4:],
        "Mail": "ops@treebeard.test",
    }
    assert manager_api.get(detail(slack["id"])).json()["target"] == "http://127.0.0.1:9/…"
    assert manager_api.get(detail(pager["id"])).json()["target"] == "…" + ROUTING_KEY[-4:]
    assert manager_api.get(detail(mail["id"])).json()["target"] == "ops@treebeard.test"


def test_update_answer_is_masked_too(manager_api):
    created = create(manager_api, name="Slack", kind="slack", target=slack_url()).json()

    response = manager_api.patch(
        detail(created["id"]), {"target": slack_url("NEWSECRET")}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["target"] == "http://127.0.0.1:9/…"
    assert Channel.objects.get(pk=created["id"]).target == slack_url("NEWSECRET")


# --- rotate-secret -----------------------------------------------------------------


def test_rotate_secret_replaces_the_webhook_secret(manager_api):
    created = create(
        manager_api, name="Receiver", kind="webhook", target="http://127.0.0.1:9/hook"
    ).json()

    response = manager_api.post(detail(created["id"], "rotate-secret"))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["secret"] != created["secret"]
    assert Channel.objects.get(pk=created["id"]).secret == body["secret"]


def test_rotate_secret_of_a_slack_channel_is_400(manager_api):
    created = create(manager_api, name="Slack", kind="slack", target=slack_url()).json()

    body = assert_json_error(manager_api.post(detail(created["id"], "rotate-secret")), 400)

    assert "kind" in body["errors"]


def test_rotate_secret_is_for_managers_only(manager_api, bob):
    created = create(
        manager_api, name="Receiver", kind="webhook", target="http://127.0.0.1:9/hook"
    ).json()
    before = Channel.objects.get(pk=created["id"]).secret

    assert_json_error(token_client(bob).post(detail(created["id"], "rotate-secret")), 403)
    assert Channel.objects.get(pk=created["id"]).secret == before


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "field", "says"), [
    ({"kind": "carrier-pigeon", "target": "x"}, "kind", "not a valid choice"),
    ({"kind": "slack", "target": "http://10.0.0.1/hook"}, "target", "https://"),
    ({"kind": "slack", "target": "https://127.0.0.2/hook"}, "target", "loopback"),
    ({"kind": "slack", "target": "U024BE7LH"}, "target", "https://"),
    ({"kind": "webhook", "target": "http://169.254.169.254/latest/"}, "target", "link-local"),
    ({"kind": "webhook", "target": "http://[::ffff:10.0.0.1]/hook"}, "target", "private"),
    ({"kind": "webhook", "target": "ftp://127.0.0.1/hook"}, "target", "https://"),
    ({"kind": "webhook", "target": "https://no-such-host.invalid/x"}, "target",
     "Could not resolve"),
    ({"kind": "email", "target": "not-an-address"}, "target", "valid email"),
    ({"kind": "pagerduty", "target": "short-key"}, "target", "32"),
    ({"kind": "email", "target": "a@treebeard.test", "severities": ["P9"]}, "severities", "P9"),
    ({"kind": "email", "target": "a@treebeard.test", "severities": []}, "severities",
     "at least one"),
    ({"kind": "email", "target": "a@treebeard.test", "severities": "P1"}, "severities", "list"),
    ({"kind": "email", "target": ""}, "target", "blank"),
])  # fmt: skip
def test_bad_input_is_400_naming_the_field_and_writes_nothing(manager_api, fields, field, says):
    body = assert_json_error(create(manager_api, name="Bad", **fields), 400)

    assert field in body["errors"], body
    assert says in " ".join(body["errors"][field]), body
    assert not Channel.objects.exists()


def test_name_is_required_and_unique(manager_api):
    create(manager_api, name="Ops", kind="email", target="ops@treebeard.test")

    missing = assert_json_error(create(manager_api, kind="email", target="a@treebeard.test"), 400)
    taken = assert_json_error(
        create(manager_api, name="Ops", kind="email", target="b@treebeard.test"), 400
    )

    assert "name" in missing["errors"]
    assert "name" in taken["errors"]
    assert Channel.objects.count() == 1


def test_kind_cannot_change(manager_api):
    created = create(manager_api, name="Ops", kind="email", target="ops@treebeard.test").json()

    body = assert_json_error(
        manager_api.patch(detail(created["id"]), {"kind": "pagerduty"}, format="json"), 400
    )

    assert "kind" in body["errors"]
    assert Channel.objects.get(pk=created["id"]).kind == "email"


def test_a_new_target_is_validated_with_the_channels_kind(manager_api):
    created = create(manager_api, name="Pager", kind="pagerduty", target=ROUTING_KEY).json()

    body = assert_json_error(
        manager_api.patch(detail(created["id"]), {"target": "ops@treebeard.test"}, format="json"),
        400,
    )

    assert "target" in body["errors"]
    assert Channel.objects.get(pk=created["id"]).target == ROUTING_KEY


def test_fixing_the_target_clears_the_last_error(manager_api):
    created = create(manager_api, name="Slack", kind="slack", target=slack_url()).json()
    Channel.objects.filter(pk=created["id"]).update(last_error="Slack answered 404: no_service")

    body = manager_api.patch(
        detail(created["id"]), {"target": slack_url("FIXED")}, format="json"
    ).json()

    assert body["last_error"] == ""
    assert body["last_error_at"] is None


def test_changing_only_severities_keeps_the_last_error(manager_api):
    created = create(manager_api, name="Slack", kind="slack", target=slack_url()).json()
    Channel.objects.filter(pk=created["id"]).update(last_error="Slack answered 404: no_service")

    body = manager_api.patch(detail(created["id"]), {"severities": ["P0"]}, format="json").json()

    assert body["severities"] == ["P0"]
    assert body["last_error"] == "Slack answered 404: no_service"


def test_managers_may_disable_and_delete_channels(manager_api):
    created = create(manager_api, name="Ops", kind="email", target="ops@treebeard.test").json()

    disabled = manager_api.patch(detail(created["id"]), {"enabled": False}, format="json")
    deleted = manager_api.delete(detail(created["id"]))

    assert disabled.json()["enabled"] is False
    assert deleted.status_code == 204
    assert not Channel.objects.exists()
