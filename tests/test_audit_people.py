"""The audit log of channels, contact methods, API tokens and people's
accounts: each change is one row written by its service, naming the action,
who made it and through which entry point, with the changed fields before
and after; secrets (webhook URLs, routing keys, signing secrets, token keys,
password hashes) never reach it. Refusals write none (test_parity_people)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from incidents.admin.contacts import ContactMethodForm
from incidents.guide import RESPONDER, VIEWER
from incidents.models import ApiToken, AuditEntry, ContactMethod, EntryPoint
from incidents.services import channels, contacts, people, tokens
from tests import factories
from tests.admin_support import form_data, inline_prefix, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]

CHANNELS = "/api/v1/channels/"
HOOK = "http://127.0.0.1:9/services/T000/B000/XXXXSECRETXXXX"
ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"


def the_entry(action: str) -> AuditEntry:
    [entry] = AuditEntry.objects.filter(action=action)
    return entry


def logged(entry: AuditEntry) -> str:
    return json.dumps([entry.before, entry.after, entry.object_repr])


# --- channels ------------------------------------------------------------------------


def test_creating_a_channel_logs_it_with_its_url_masked(alice):
    body = {"name": "Ops", "kind": "slack", "target": HOOK, "severities": ["P0"]}
    response = signed_in(alice).post(CHANNELS, body, content_type="application/json")
    assert response.status_code == 201, response.content

    entry = the_entry("channel_create")
    assert (entry.actor, entry.entry_point) == (alice, EntryPoint.API)
    assert (entry.object_type, entry.object_id) == ("channel", str(response.json()["id"]))
    assert entry.before is None
    assert entry.after["name"] == "Ops" and entry.after["severities"] == ["P0"]
    assert entry.after["target"].startswith("http://127.0.0.1:9/… #")
    assert "XXXXSECRETXXXX" not in logged(entry)


def test_a_new_url_on_the_same_host_shows_as_a_change_without_showing_either(alice):
    channel = channels.channel_create(actor=alice, name="Ops", kind="slack", target=HOOK)
    page = reverse("admin:incidents_channel_change", args=[channel.pk])
    form = {"name": "Ops", "target": HOOK.replace("XXXX", "YYYY"), "severities": ["P0", "P1"]}

    response = signed_in(alice).post(page, {**form, "enabled": "on"})

    assert response.status_code == 302
    entry = the_entry("channel_update")
    assert (entry.actor, entry.entry_point) == (alice, EntryPoint.ADMIN)
    assert set(entry.before) == set(entry.after) == {"target", "severities"}
    assert entry.before["target"] != entry.after["target"]
    assert entry.after["severities"] == ["P0", "P1"]
    assert "SECRET" not in logged(entry)


def test_a_routing_key_is_logged_by_its_last_four_characters(alice):
    channels.channel_create(actor=alice, name="Pager", kind="pagerduty", target=ROUTING_KEY)

    entry = the_entry("channel_create")
    assert entry.after["target"].startswith("…d1a6 #")
    assert ROUTING_KEY not in logged(entry)


def test_rotating_a_signing_secret_logs_neither_secret(alice):
    channel = channels.channel_create(actor=alice, name="Hook", kind="webhook", target=HOOK)
    old = channel.secret

    response = signed_in(alice).post(f"{CHANNELS}{channel.pk}/rotate-secret/")

    new = response.json()["secret"]
    entry = the_entry("channel_rotate_secret")
    assert (entry.before, entry.after) == (
        {"secret": "••••" + old[-4:]},
        {"secret": "••••" + new[-4:]},
    )
    assert old not in logged(entry) and new not in logged(entry)


def test_deleting_a_channel_keeps_its_id_and_what_it_was(alice):
    channel = channels.channel_create(actor=alice, name="Ops", kind="email", target="o@x.test")

    assert signed_in(alice).delete(f"{CHANNELS}{channel.pk}/").status_code == 204

    entry = the_entry("channel_delete")
    assert entry.object_id == str(channel.pk)
    assert entry.before["target"] == "o@x.test"  # an address is not a secret
    assert entry.after is None


# --- contact methods -------------------------------------------------------------------


def test_a_manager_changing_someones_contact_methods_is_logged(alice, bob):
    page = reverse("admin:incidents_contactmethod_add")
    form = {"user": bob.pk, "kind": "pagerduty", "value": ROUTING_KEY, "enabled": "on"}

    assert signed_in(alice).post(page, form).status_code == 302
    method = ContactMethod.objects.get()
    method_id = method.pk
    contacts.contact_remove(actor=alice, method=method)

    added, removed = the_entry("contact_add"), the_entry("contact_remove")
    assert (added.actor, added.entry_point) == (alice, EntryPoint.ADMIN)
    assert added.after["user"] == {"id": bob.pk, "name": "bob"}
    assert added.after["value"] == "…d1a6"
    assert ROUTING_KEY not in logged(added) + logged(removed)
    assert (removed.entry_point, removed.object_id) == (EntryPoint.COMMAND, str(method_id))


def test_a_person_keeping_their_own_contact_methods_is_not_logged(bob):
    client = signed_in(bob)

    client.post("/me/contact-methods/", {"kind": "email", "value": "bob@pager.test"})
    method = ContactMethod.objects.get(user=bob)
    client.post(reverse("incidents:contact-enabled", args=[method.pk]), {"enabled": "0"})
    client.post(reverse("incidents:contact-remove", args=[method.pk]))

    assert not ContactMethod.objects.exists()  # all three happened
    assert not AuditEntry.objects.exists()


# --- API tokens ------------------------------------------------------------------------


def test_issuing_and_revoking_a_token_in_the_admin_is_logged_by_its_prefix(alice):
    client = signed_in(alice)
    form = {"user": alice.pk, "name": "ci", "scopes": ["read"]}
    assert client.post(reverse("admin:incidents_apitoken_add"), form).status_code == 302
    token = ApiToken.objects.get()
    changelist = reverse("admin:incidents_apitoken_changelist")
    client.post(changelist, {"action": "revoke_selected", "_selected_action": [token.pk]})

    created, revoked = the_entry("api_token_create"), the_entry("api_token_revoke")
    assert (created.actor, created.entry_point) == (alice, EntryPoint.ADMIN)
    assert created.after["prefix"] == token.prefix
    assert created.after["scopes"] == ["read"] and created.after["name"] == "ci"
    assert token.key_hash not in logged(created) + logged(revoked)
    assert revoked.before == {"revoked_at": None}
    assert revoked.after == {"revoked_at": ApiToken.objects.get().revoked_at.isoformat()}


def test_a_token_made_at_the_command_line_is_logged_as_the_operators(bob):
    out = StringIO()
    call_command("create_api_token", "bob", "--scope", "read", stdout=out)
    key = out.getvalue().splitlines()[-1]

    entry = the_entry("api_token_create")
    assert (entry.actor, entry.actor_name, entry.entry_point) == (None, "", EntryPoint.COMMAND)
    assert entry.after["user"] == {"id": bob.pk, "name": "bob"}
    assert key not in logged(entry) and key[:12] in logged(entry)


# --- people ----------------------------------------------------------------------------


def user_page(person) -> str:
    return reverse("admin:auth_user_change", args=[person.pk])


def test_a_managers_change_to_someones_account_is_logged(alice, bob):
    viewer = Group.objects.get(name=VIEWER)
    client = signed_in(alice)
    data = form_data(client.get(user_page(bob)))
    data.update(email="robert@treebeard.test", groups=[viewer.pk], is_active="")

    assert client.post(user_page(bob), data).status_code == 302

    update, groups = the_entry("person_update"), the_entry("person_set_groups")
    assert (update.actor, update.entry_point, update.object_id) == (alice, "admin", str(bob.pk))
    assert update.before == {"email": "bob@treebeard.test", "is_active": True}
    assert update.after == {"email": "robert@treebeard.test", "is_active": False}
    assert (groups.before, groups.after) == ({"groups": [RESPONDER]}, {"groups": [VIEWER]})
    bob.refresh_from_db()
    assert bob.password[:12] not in logged(update) + logged(groups)


def test_saving_someones_page_unchanged_logs_nothing(alice, bob):
    client = signed_in(alice)

    assert client.post(user_page(bob), form_data(client.get(user_page(bob)))).status_code == 302

    assert not AuditEntry.objects.exists()


def test_creating_and_deleting_an_account_is_logged(alice):
    client = signed_in(alice)
    form = {"username": "deploy-bot", "usable_password": "false"}
    assert client.post(reverse("admin:auth_user_add"), form).status_code == 302
    made = the_entry("person_create")
    person = made.object_id

    delete = reverse("admin:auth_user_delete", args=[person])
    assert client.post(delete, {"post": "yes"}).status_code == 302

    gone = the_entry("person_delete")
    assert made.after["username"] == "deploy-bot" and made.after["usable_password"] is False
    assert (gone.object_id, gone.before["username"]) == (person, "deploy-bot")


def test_a_superusers_grant_of_staff_status_is_logged(alice):
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)

    people.person_update(actor=root, person=alice, is_superuser=True)

    entry = the_entry("person_update")
    assert (entry.actor, entry.before, entry.after) == (
        root,
        {"is_superuser": False},
        {"is_superuser": True},
    )


def test_renaming_a_token_in_the_admin_is_logged(alice):
    token, _ = tokens.api_token_create(actor=alice, user=alice, name="ci")
    page = reverse("admin:incidents_apitoken_change", args=[token.pk])

    assert signed_in(alice).post(page, {"name": "deploys"}).status_code == 302

    entry = the_entry("api_token_rename")
    assert (entry.before, entry.after) == ({"name": "ci"}, {"name": "deploys"})
    assert ApiToken.objects.get().name == "deploys"


def test_removing_a_row_on_someones_page_goes_through_the_service(alice, bob):
    ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    client = signed_in(alice)
    page = client.get(user_page(bob))
    data, prefix = form_data(page), inline_prefix(page, ContactMethodForm)
    data[f"{prefix}-0-DELETE"] = "on"

    assert client.post(user_page(bob), data).status_code == 302

    assert not ContactMethod.objects.exists()
    entry = the_entry("contact_remove")
    assert (entry.actor, entry.entry_point) == (alice, EntryPoint.ADMIN)
    assert entry.before["value"] == "bob@pager.test"
