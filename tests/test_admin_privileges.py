"""Privilege boundaries in the admin (issue 9): a manager (staff, Manager
group, not a superuser) manages people's membership of the guide's groups,
never a superuser's account, never superuser or staff status or raw
permissions, and never reads a key that acts as someone else. Each refusal is
tried through the real admin pages, and the same change made by a superuser
succeeds."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from incidents import services
from incidents.guide import MANAGER, RESPONDER, VIEWER
from incidents.models import ApiToken, AuditEntry, ContactMethod
from incidents.notify import outbox
from tests import factories
from tests.admin_support import form_data, messages_of, signed_in

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "an entirely new passphrase 42"


def user_url(view: str, *args) -> str:
    name = "password_change" if view == "password" else view
    return reverse(f"admin:auth_user_{name}", args=args)


def group_url(view: str, *args) -> str:
    return reverse(f"admin:auth_group_{view}", args=args)


@pytest.fixture
def root(db):
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def as_alice(alice) -> Client:
    return signed_in(alice)


@pytest.fixture
def as_root(root) -> Client:
    return signed_in(root)


@pytest.fixture
def auditors(db) -> Group:
    """A group only a superuser hands out: it can change severity policies."""
    group = Group.objects.create(name="Auditors")
    group.permissions.add(Permission.objects.get(codename="delete_user"))
    return group


def change_form(client: Client, person) -> dict:
    """The user change form as the browser would post it back."""
    page = client.get(user_url("change", person.pk))
    assert page.status_code == 200
    data = form_data(page)
    for name in ("date_joined", "last_login"):  # split date and time inputs
        if (value := data.pop(name, None)) is not None:
            data[f"{name}_0"], data[f"{name}_1"] = value.date(), value.time()
    return data


def password_form(password: str = NEW_PASSWORD) -> dict:
    return {"password1": password, "password2": password, "usable_password": "true"}


# --- a superuser's account is out of a manager's reach ------------------------------


@pytest.mark.parametrize("view", ["change", "password", "history", "delete"])
def test_a_manager_cannot_open_any_page_of_a_superusers_account(as_alice, root, view):
    response = as_alice.get(user_url(view, root.pk))

    assert response.status_code == 403


def test_a_manager_cannot_reset_a_superusers_password(as_alice, root):
    response = as_alice.post(user_url("password", root.pk), password_form())

    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password(PASSWORD)
    assert not root.check_password(NEW_PASSWORD)


def test_a_manager_cannot_edit_or_deactivate_a_superuser(as_alice, as_root, root):
    data = change_form(as_root, root)  # the form as a superuser sees it
    data.pop("is_active")
    data["email"] = "alice@evil.test"

    response = as_alice.post(user_url("change", root.pk), data)

    assert response.status_code == 403
    root.refresh_from_db()
    assert (root.is_active, root.email) == (True, "root@treebeard.test")


def test_a_manager_cannot_delete_a_superuser_one_by_one_or_in_bulk(as_alice, root, bob):
    single = as_alice.post(user_url("delete", root.pk), {"post": "yes"})
    bulk = as_alice.post(
        user_url("changelist"),
        {"action": "delete_selected", "_selected_action": [root.pk, bob.pk], "post": "yes"},
    )

    assert (single.status_code, bulk.status_code) == (403, 403)
    assert set(type(root).objects.filter(pk__in=[root.pk, bob.pk])) == {root, bob}


def test_a_superuser_resets_deactivates_and_deletes_another_superuser(as_root):
    other = factories.UserFactory(username="root2", is_superuser=True, is_staff=True)

    reset = as_root.post(user_url("password", other.pk), password_form())
    data = change_form(as_root, other)
    data.pop("is_active")
    deactivate = as_root.post(user_url("change", other.pk), data)
    other.refresh_from_db()
    assert other.check_password(NEW_PASSWORD)
    assert not other.is_active
    delete = as_root.post(user_url("delete", other.pk), {"post": "yes"})

    assert (reset.status_code, deactivate.status_code, delete.status_code) == (302, 302, 302)
    assert not type(other).objects.filter(pk=other.pk).exists()


# --- superuser and staff status, raw permissions -------------------------------------


def test_a_manager_cannot_make_themselves_superuser_or_grant_raw_permissions(as_alice, alice):
    data = change_form(as_alice, alice)
    permission = Permission.objects.get(codename="change_permission")
    data.update(is_superuser="on", user_permissions=[permission.pk], first_name="Alice")

    response = as_alice.post(user_url("change", alice.pk), data)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.first_name == "Alice"  # the rest of the form is saved
    assert not alice.is_superuser
    assert not alice.user_permissions.exists()
    assert not alice.has_perm("auth.change_permission")


def test_a_manager_sees_superuser_staff_and_permissions_read_only(as_alice, bob):
    form = change_form(as_alice, bob)

    assert not {"is_superuser", "is_staff", "user_permissions"} & set(form)
    assert {"groups", "is_active", "email"} <= set(form)


def test_a_manager_cannot_give_staff_status(as_alice, bob):
    data = change_form(as_alice, bob)
    data.update(is_staff="on", is_superuser="on")

    assert as_alice.post(user_url("change", bob.pk), data).status_code == 302
    bob.refresh_from_db()
    assert (bob.is_staff, bob.is_superuser) == (False, False)


def test_a_superuser_grants_superuser_staff_and_raw_permissions(as_root, bob):
    permission = Permission.objects.get(codename="change_permission")
    data = change_form(as_root, bob)
    data.update(is_staff="on", is_superuser="on", user_permissions=[permission.pk])

    assert as_root.post(user_url("change", bob.pk), data).status_code == 302
    bob.refresh_from_db()
    assert (bob.is_staff, bob.is_superuser) == (True, True)
    assert list(bob.user_permissions.all()) == [permission]


# --- group membership --------------------------------------------------------------------


def test_a_manager_puts_people_in_the_guides_groups(as_alice, bob):
    manager, viewer = Group.objects.get(name=MANAGER), Group.objects.get(name=VIEWER)
    data = change_form(as_alice, bob)
    data["groups"] = [manager.pk, viewer.pk]

    assert as_alice.post(user_url("change", bob.pk), data).status_code == 302
    assert set(bob.groups.all()) == {manager, viewer}


def test_a_manager_cannot_put_anyone_in_a_group_only_a_superuser_gives(
    as_alice, alice, bob, auditors
):
    for person in (alice, bob):
        data = change_form(as_alice, person)
        data["groups"] = [auditors.pk]

        response = as_alice.post(user_url("change", person.pk), data)

        assert response.status_code == 200
        assert "groups" in response.context["adminform"].form.errors
        assert not person.groups.filter(pk=auditors.pk).exists()
    assert set(
        as_alice.get(user_url("change", bob.pk))
        .context["adminform"]
        .form["groups"]
        .field.queryset.values_list("name", flat=True)
    ) == {VIEWER, RESPONDER, MANAGER}


def test_a_managers_edit_keeps_the_groups_a_superuser_gave(as_alice, bob, auditors):
    bob.groups.add(auditors)
    data = change_form(as_alice, bob)
    # The browser posts the selected options it was offered: not Auditors.
    data.update(first_name="Robert", groups=[Group.objects.get(name=RESPONDER).pk])

    assert as_alice.post(user_url("change", bob.pk), data).status_code == 302
    bob.refresh_from_db()
    assert bob.first_name == "Robert"
    assert set(bob.groups.values_list("name", flat=True)) == {RESPONDER, "Auditors"}


def test_a_superuser_puts_people_in_any_group(as_root, bob, auditors):
    data = change_form(as_root, bob)
    data["groups"] = [auditors.pk]

    assert as_root.post(user_url("change", bob.pk), data).status_code == 302
    assert list(bob.groups.all()) == [auditors]


def test_a_manager_looks_at_groups_but_cannot_add_change_or_delete_one(as_alice, auditors):
    manager = Group.objects.get(name=MANAGER)
    everything = list(Permission.objects.values_list("pk", flat=True))

    view = as_alice.get(group_url("change", manager.pk))
    change = as_alice.post(
        group_url("change", manager.pk), {"name": MANAGER, "permissions": everything}
    )
    add = as_alice.post(group_url("add"), {"name": "Root", "permissions": everything})
    delete = as_alice.post(group_url("delete", auditors.pk), {"post": "yes"})

    assert view.status_code == 200
    assert not view.context["has_change_permission"]
    assert (change.status_code, add.status_code, delete.status_code) == (403, 403, 403)
    assert manager.permissions.count() < len(everything)
    assert not Group.objects.filter(name="Root").exists()
    assert Group.objects.filter(pk=auditors.pk).exists()


def test_a_superuser_edits_a_groups_permissions(as_root, auditors):
    permission = Permission.objects.get(codename="view_incident")

    response = as_root.post(
        group_url("change", auditors.pk), {"name": "Auditors", "permissions": [permission.pk]}
    )

    assert response.status_code == 302
    assert list(auditors.permissions.all()) == [permission]


# --- passwords of other people -------------------------------------------------------------


def test_a_manager_cannot_take_away_someones_password_to_make_a_service_account(as_alice, bob):
    response = as_alice.post(
        user_url("password", bob.pk), {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 200  # the form again, saying why beside the field
    assert "service account" in " ".join(response.context["form"].errors["usable_password"])
    bob.refresh_from_db()
    assert bob.has_usable_password()


def test_a_superuser_disables_someones_password(as_root, bob):
    response = as_root.post(
        user_url("password", bob.pk), {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 302
    bob.refresh_from_db()
    assert not bob.has_usable_password()


def test_a_manager_sets_the_password_of_a_non_superuser_and_the_log_says_so(as_alice, bob):
    assert as_alice.post(user_url("password", bob.pk), password_form()).status_code == 302
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    [entry] = AuditEntry.objects.filter(action="person_set_password")
    assert (entry.actor_name, entry.object_id, entry.entry_point) == ("alice", str(bob.pk), "admin")
    assert entry.after == {"password": "set"}
    assert NEW_PASSWORD not in str(entry.before) + str(entry.after) + entry.object_repr


def test_a_manager_deletes_their_own_account_and_the_log_keeps_who_it_was(as_alice, alice):
    response = as_alice.post(user_url("delete", alice.pk), {"post": "yes"})

    assert response.status_code == 302
    [entry] = AuditEntry.objects.filter(action="person_delete")
    assert (entry.actor, entry.actor_name, entry.object_id) == (None, "alice", str(alice.pk))


# --- API tokens: only your own key, or a service account's ----------------------------------


def test_a_manager_cannot_revoke_or_rename_a_superusers_token(as_alice, alice, root):
    token, _ = services.api_token_create(actor=root, user=root, name="root's laptop")
    response = as_alice.post(
        reverse("admin:incidents_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    assert response.status_code == 403
    for call in (services.api_token_revoke, services.api_token_rename):
        extra = {"name": "mine now"} if call is services.api_token_rename else {}
        with pytest.raises(PermissionDenied):
            call(actor=alice, token=token, **extra)
    token.refresh_from_db()
    assert (token.revoked_at, token.name) == (None, "root's laptop")


def token_add(client: Client, owner, scopes=("read",)):
    return client.post(
        reverse("admin:incidents_apitoken_add"),
        {"user": owner.pk, "name": "ci", "scopes": list(scopes)},
    )


def shown_key(response) -> str:
    [message] = [m for m in messages_of(response) if "not shown again" in m]
    return message.rsplit(" ", 1)[-1]


@pytest.fixture
def service_account(db):
    user = factories.UserFactory(username="deploy-bot", groups=[RESPONDER])
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


@pytest.mark.parametrize("owner", ["bob", "root"])
def test_a_manager_cannot_create_a_token_for_another_person(request, as_alice, owner):
    person = request.getfixturevalue(owner)

    response = token_add(as_alice, person, scopes=("read", "write"))

    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()
    assert not any("not shown again" in m for m in messages_of(response))


def test_the_token_form_offers_a_manager_only_themselves_and_service_accounts(
    as_alice, alice, bob, root, service_account
):
    page = as_alice.get(reverse("admin:incidents_apitoken_add"))

    offered = set(page.context["adminform"].form.fields["user"].queryset)
    assert offered == {alice, service_account}


def test_a_manager_creates_a_token_for_a_service_account(as_alice, service_account):
    response = token_add(as_alice, service_account, scopes=("read", "write"))

    assert response.status_code == 302
    assert services.api_token_lookup(shown_key(response)).user == service_account


def test_a_superuser_creates_a_token_for_anyone(as_root, bob):
    response = token_add(as_root, bob)

    assert response.status_code == 302
    assert services.api_token_lookup(shown_key(response)).user == bob


def test_the_token_service_refuses_a_key_for_someone_else(alice, bob, service_account, root):
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=alice, user=bob)
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=bob, user=service_account)  # not a manager
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=alice, user=root)
    assert not ApiToken.objects.exists()
    assert services.api_token_create(actor=bob, user=bob)[0].user == bob
    assert services.api_token_create(actor=root, user=alice)[0].user == alice


def test_the_admin_never_shows_the_acknowledge_link_of_a_paged_person(as_alice, as_root, bob):
    incident = factories.declare(actor=None, severity="P1")
    ContactMethod.objects.create(user=bob, kind="email", value="bob@pager.test")
    [row] = outbox.page_people(incident=incident, event=None, users=[bob])
    link = row.context["ack_url"]
    page = reverse("admin:incidents_notification_change", args=[row.pk])

    for client in (as_alice, as_root):
        response = client.get(page)

        assert response.status_code == 200
        assert link.rsplit("/ack/", 1)[1].rstrip("/") not in response.content.decode()
        assert "hidden" in response.content.decode()


def test_a_manager_cannot_redirect_a_superusers_pages(as_alice, as_root, root, bob):
    method = ContactMethod.objects.create(user=root, kind="email", value="root@pager.test")
    page = reverse("admin:incidents_contactmethod_change", args=[method.pk])
    data = {"user": root.pk, "kind": "email", "value": "alice@evil.test", "enabled": "on"}

    edit = as_alice.post(page, data)
    add = as_alice.post(reverse("admin:incidents_contactmethod_add"), data)
    delete = as_alice.post(
        reverse("admin:incidents_contactmethod_delete", args=[method.pk]), {"post": "yes"}
    )
    bobs = as_alice.post(reverse("admin:incidents_contactmethod_add"), {**data, "user": bob.pk})

    assert (edit.status_code, delete.status_code) == (403, 403)
    assert add.status_code == 200 and "user" in add.context["adminform"].form.errors
    assert bobs.status_code == 302  # anyone else's, as before
    assert list(ContactMethod.objects.filter(user=root).values_list("value", flat=True)) == [
        "root@pager.test"
    ]
    assert as_root.post(page, data).status_code == 302
    method.refresh_from_db()
    assert method.value == "alice@evil.test"


def test_a_manager_cannot_disable_a_superusers_password_either(as_alice, root):
    response = as_alice.post(
        user_url("password", root.pk), {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 403
    root.refresh_from_db()
    assert root.has_usable_password()


def test_staff_who_may_only_view_people_still_see_their_pages(client, bob, root):
    reader = factories.UserFactory(username="reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(reader)

    assert client.get(user_url("change", bob.pk)).status_code == 200
    assert client.get(user_url("change", root.pk)).status_code == 403
    assert client.post(user_url("password", bob.pk), password_form()).status_code == 403
