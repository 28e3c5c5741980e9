"""Who may do what: the guide's groups, incidents.access, and what an
anonymous visitor can reach."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied

from incidents import access
from incidents.guide import MANAGER, RESPONDER, VIEWER, ensure_guide_defaults
from incidents.models import SeverityPolicy

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"incidents", "postmortems", "statuspage"}


def perms_of(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def all_view_perms() -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(
            content_type__app_label__in=PROJECT_APPS, codename__startswith="view_"
        ).select_related("content_type")
    }


# --- groups after migrate ------------------------------------------------------


def test_viewers_may_only_view_the_projects_records():
    viewer = perms_of(VIEWER)

    assert viewer == all_view_perms()
    assert "incidents.view_incident" in viewer
    assert "incidents.view_timelineevent" in viewer
    assert all(p.split(".")[1].startswith("view_") for p in viewer)


def test_responders_may_view_and_act_on_incidents_but_change_nothing_else():
    responder = perms_of(RESPONDER)

    assert responder == all_view_perms() | {"incidents.respond_incident"}


def test_managers_may_edit_policies_and_people_but_only_look_at_groups():
    manager = perms_of(MANAGER)

    assert perms_of(RESPONDER) <= manager
    assert {
        "incidents.change_severitypolicy",
        "incidents.add_service",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
    } <= manager
    # Everything of the project and people; groups only to look at (changing
    # one is granting raw permissions); nothing else (no sessions, no admin
    # log, no editing of permissions themselves).
    people = {
        f"auth.{codename}"
        for codename in Permission.objects.filter(
            content_type__app_label="auth", content_type__model="user"
        ).values_list("codename", flat=True)
    }
    project = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(
            content_type__app_label__in=PROJECT_APPS
        ).values_list("content_type__app_label", "codename")
    }
    assert manager == project | people | {"auth.view_group"}
    assert not {"auth.add_group", "auth.change_group", "auth.delete_group"} & manager
    assert "auth.change_permission" not in manager


def test_rerunning_the_defaults_keeps_permissions_granted_by_hand():
    group = Group.objects.get(name=VIEWER)
    extra = Permission.objects.get(codename="respond_incident")
    group.permissions.add(extra)

    ensure_guide_defaults()

    assert "incidents.respond_incident" in perms_of(VIEWER)


def test_manager_edits_to_a_policy_survive_rerunning_the_defaults():
    SeverityPolicy.objects.filter(severity="P0").update(
        name="Sev zero", ack_target_seconds=120, notify_channels=["slack"]
    )

    ensure_guide_defaults()

    policy = SeverityPolicy.objects.get(severity="P0")
    assert (policy.name, policy.ack_target_seconds, policy.notify_channels) == (
        "Sev zero",
        120,
        ["slack"],
    )
    assert SeverityPolicy.objects.count() == 4


def test_a_deleted_policy_comes_back_with_the_guides_values():
    SeverityPolicy.objects.filter(severity="P3").delete()

    ensure_guide_defaults()

    policy = SeverityPolicy.objects.get(severity="P3")
    assert (policy.name, policy.ack_next_business_day, policy.resolve_target_seconds) == (
        "Low",
        True,
        None,
    )


# --- incidents.access ---------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "view", "respond", "manage"),
    [
        ("alice", True, True, True),
        ("bob", True, True, False),
        ("vera", True, False, False),
        ("charlie", False, False, False),
        ("anonymous", False, False, False),
    ],
)
def test_access_follows_the_groups(request, who, view, respond, manage):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)

    assert access.can_view(user) is view
    assert access.can_respond(user) is respond
    assert access.can_manage(user) is manage


def test_require_respond_refuses_viewers(vera, bob):
    access.require_respond(bob)
    with pytest.raises(PermissionDenied):
        access.require_respond(vera)


def test_an_inactive_manager_can_do_nothing(alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert (access.can_view(alice), access.can_respond(alice), access.can_manage(alice)) == (
        False,
        False,
        False,
    )


def test_nobody_is_a_user_of_none():
    assert not access.can_view(None)
    assert not access.can_respond(None)


# --- anonymous visitors ---------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_for_the_board(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_anonymous_visitors_are_sent_to_sign_in_for_an_incident(client, incident):
    url = f"/incidents/{incident.ref}/"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_anonymous_visitors_are_sent_to_sign_in_for_the_admin(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/accounts/login/"])
def test_probes_and_the_sign_in_page_answer_anonymous_visitors(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
