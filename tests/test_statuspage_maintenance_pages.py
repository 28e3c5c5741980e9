"""Scheduled maintenance in the dashboard (/status-page/maintenance/) and
in the admin: both save through the services and show a refusal beside
its field, nothing written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import AuditEntry, EntryPoint
from statuspage.models import ComponentStatus, Maintenance
from tests.admin_support import form_data, form_errors, messages_of, signed_in, url
from tests.engine_support import T0
from tests.sp_maint_support import HOUR, component, rows, schedule, statuses

pytestmark = pytest.mark.django_db

START_AT = T0 + 24 * HOUR
LIST = "/status-page/maintenance/"
NEW = "/status-page/maintenance/new/"


@pytest.fixture
def web(alice):
    return component(alice, "Website")


def new_form(web, **fields) -> dict:
    return {
        "name": "Database upgrade",
        "scheduled_for": "2026-11-26T10:00",
        "scheduled_until": "2026-11-26T12:00",
        "components": [web.pk],
        "message": "Upgrading the primary database.",
        "auto_transition": "on",
        **fields,
    }


# --- dashboard --------------------------------------------------------------------------


def test_the_url_names():
    assert reverse("statuspage-manage:maintenances") == LIST
    assert reverse("statuspage-manage:maintenance-new") == NEW


def test_a_responder_schedules_from_the_dashboard(frozen, client_for, bob, web):
    client = client_for(bob)
    page = client.get(NEW)
    assert page.status_code == 200 and b'type="datetime-local"' in page.content
    response = client.post(NEW, new_form(web))
    m = Maintenance.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/status-page/maintenance/{m.code}/"
    assert m.scheduled_for == START_AT and m.auto_transition and not m.counts_as_downtime
    assert list(m.components.all()) == [web]
    assert m.updates.get().body == "Upgrading the primary database."
    assert set(rows(m)) == {"maint_remind", "maint_start", "maint_end"}
    assert AuditEntry.objects.get(action="maintenance_schedule").entry_point == EntryPoint.DASHBOARD
    listed = client.get(LIST)
    assert listed.status_code == 200 and b"Database upgrade" in listed.content


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"message": ""}, "message", "message"),
        ({"scheduled_until": "2026-11-26T09:00"}, "scheduled_until", "after scheduled_for"),
        (
            {"scheduled_for": "2026-11-20T09:00", "scheduled_until": "2026-11-20T10:00"},
            "scheduled_until",
            "in the past",
        ),
    ],
)
def test_a_refusal_shows_beside_the_field(frozen, client_for, bob, web, fields, field, text):
    response = client_for(bob).post(NEW, new_form(web, **fields))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert text in errors[field][0]
    assert b"field-error" in response.content
    assert not Maintenance.objects.exists()


def test_viewers_see_the_list_but_not_the_form(frozen, client_for, bob, vera):
    schedule(bob, START_AT)
    client = client_for(vera)
    page = client.get(LIST)
    assert page.status_code == 200 and b"Schedule maintenance" not in page.content
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {}).status_code == 403


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_post_updates_from_its_page(frozen, client_for, bob, web):
    m = schedule(bob, START_AT, components=[web])
    client = client_for(bob)
    page = client.get(f"/status-page/maintenance/{m.code}/")
    assert page.status_code == 200 and b"Post a public update" in page.content
    target = f"/status-page/maintenance/{m.code}/updates/"
    response = client.post(target, {"status": "in_progress", "body": "Starting now."})
    assert response.status_code == 302
    assert statuses(web) == [ComponentStatus.UNDER_MAINTENANCE]
    refused = client.post(target, {"status": "in_progress", "body": ""})
    assert refused.status_code == 400
    assert "body" in refused.context["form"].errors
    client.post(target, {"status": "completed", "body": "Done."})
    assert statuses(web) == [ComponentStatus.OPERATIONAL]
    done = client.get(f"/status-page/maintenance/{m.code}/")
    assert b"Post a public update" not in done.content


def test_delete_from_its_page(frozen, client_for, bob):
    m = schedule(bob, START_AT)
    client = client_for(bob)
    response = client.post(f"/status-page/maintenance/{m.code}/delete/")
    assert response.status_code == 302 and not Maintenance.objects.exists()
    started = schedule(bob, START_AT, name="Started")
    client.post(
        f"/status-page/maintenance/{started.code}/updates/",
        {"status": "in_progress", "body": "Go."},
    )
    refused = client.post(f"/status-page/maintenance/{started.code}/delete/", follow=True)
    assert Maintenance.objects.filter(pk=started.pk).exists()
    assert any("has started" in m for m in messages_of(refused))


def test_unknown_maintenance_is_a_404(frozen, client_for, bob):
    assert client_for(bob).get("/status-page/maintenance/nosuchthing1/").status_code == 404


# --- admin ----------------------------------------------------------------------------------


def admin_add(web, **fields) -> dict:
    return {
        "name": "Database upgrade",
        "scheduled_for_0": "2026-11-26",
        "scheduled_for_1": "10:00:00",
        "scheduled_until_0": "2026-11-26",
        "scheduled_until_1": "12:00:00",
        "components": [web.pk],
        "auto_transition": "on",
        "message": "Upgrading.",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
        **fields,
    }


def test_admin_schedules_through_the_service(frozen, alice, web):
    client = signed_in(alice)
    response = client.post(url(Maintenance, "add"), admin_add(web))
    assert response.status_code == 302, form_errors(response)
    m = Maintenance.objects.get()
    assert m.updates.get().body == "Upgrading." and set(rows(m)) == {
        "maint_remind",
        "maint_start",
        "maint_end",
    }
    assert AuditEntry.objects.get(action="maintenance_schedule").entry_point == EntryPoint.ADMIN


def test_admin_shows_the_refusal_beside_the_field(frozen, alice, web):
    client = signed_in(alice)
    response = client.post(url(Maintenance, "add"), admin_add(web, message=""))
    assert "message" in form_errors(response)
    response = client.post(url(Maintenance, "add"), admin_add(web, scheduled_until_1="09:00:00"))
    assert "after scheduled_for" in form_errors(response)["scheduled_until"][0]
    assert not Maintenance.objects.exists()


def test_admin_change_reschedules_and_posts_updates(frozen, alice, bob, web):
    m = schedule(bob, START_AT, components=[web])
    client = signed_in(alice)
    page = client.get(url(Maintenance, "change", m.pk))
    data = form_data(page)
    data.update({"scheduled_until_1": "13:00:00"})
    response = client.post(url(Maintenance, "change", m.pk), data)
    assert response.status_code == 302, form_errors(response)
    assert rows(m)["maint_end"] == START_AT + 3 * HOUR
    data = form_data(client.get(url(Maintenance, "change", m.pk)))
    data.update({"update_status": "in_progress", "message": "Starting."})
    response = client.post(url(Maintenance, "change", m.pk), data)
    assert response.status_code == 302, form_errors(response)
    m.refresh_from_db()
    assert m.status == "in_progress" and statuses(web) == [ComponentStatus.UNDER_MAINTENANCE]
    data = form_data(client.get(url(Maintenance, "change", m.pk)))
    data.update({"update_status": "scheduled", "message": "Back?"})
    refused = client.post(url(Maintenance, "change", m.pk), data)
    assert "cannot move to scheduled" in form_errors(refused)["update_status"][0]


def test_admin_delete_refuses_a_started_one(frozen, alice, bob):
    m = schedule(bob, START_AT)
    client = signed_in(alice)
    from statuspage import services

    services.maintenance_post_update(actor=bob, maintenance=m, status="in_progress", body="Go.")
    response = client.post(url(Maintenance, "delete", m.pk), {"post": "yes"}, follow=True)
    assert Maintenance.objects.filter(pk=m.pk).exists()
    assert any("has started" in text for text in messages_of(response))
    upcoming = schedule(bob, START_AT, name="Later")
    client.post(url(Maintenance, "delete", upcoming.pk), {"post": "yes"})
    assert not Maintenance.objects.filter(pk=upcoming.pk).exists()
