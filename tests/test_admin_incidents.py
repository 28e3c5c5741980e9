"""Incidents in the Django admin: declared, edited, assigned and updated
only through ``incidents.services``, as everywhere else; a service's refusal
shows beside the field it names and leaves the whole page unsaved."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents import services
from incidents.admin import FALSE_POSITIVE_ROOT_CAUSE, AssignRoleForm, PostUpdateForm
from incidents.models import (
    Deadline,
    DeadlineKind,
    EventKind,
    Incident,
    ReferenceCounter,
    Role,
    RoleAssignment,
    Service,
    StatusUpdate,
    TimelineEvent,
)
from tests import factories
from tests.admin_support import (
    T0,
    form_data,
    inline_prefix,
    messages_of,
    url,
)
from tests.engine_support import events

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def post_with_row(client, incident: Incident, form_class, row: dict, **fields):
    """Post the incident's change page as shown, with ``fields`` changed and
    the first row of the inline of ``form_class`` filled in with ``row``."""
    page = client.get(url(Incident, "change", incident.pk))
    data = form_data(page)
    prefix = inline_prefix(page, form_class)
    data.update({f"{prefix}-0-{name}": value for name, value in row.items()}, **fields)
    return client.post(url(Incident, "change", incident.pk), data)


# --- bulk actions -----------------------------------------------------------------


def run_action(client, action: str, incidents: list[Incident]):
    return client.post(
        url(Incident, "changelist"),
        {"action": action, "_selected_action": [i.pk for i in incidents]},
    )


def test_acknowledge_action_acknowledges_through_the_service(admin_client_for, alice, bob):
    fresh = factories.declare(actor=bob, title="Fresh")
    seen = factories.declare(actor=bob, title="Seen")
    services.incident_acknowledge(incident=seen, actor=bob)

    response = run_action(admin_client_for, "acknowledge_selected", [fresh, seen])

    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.acknowledged_at == T0
    [event] = events(fresh, EventKind.ACKNOWLEDGED)
    assert event.actor == alice
    assert Deadline.objects.get(incident=fresh, kind=DeadlineKind.ACKNOWLEDGE).met_at == T0
    assert [e.actor for e in events(seen, EventKind.ACKNOWLEDGED)] == [bob]
    assert messages_of(response) == [
        f"{seen.ref}: {seen.ref} is already acknowledged.",
        f"Acknowledged 1: {fresh.ref}.",
    ]


def test_resolve_action_resolves_as_false_positive_through_the_service(
    admin_client_for, alice, bob
):
    noisy = factories.declare(actor=bob, title="Flapping disk alert")
    done = factories.declare(actor=bob, title="Done")
    services.incident_resolve(incident=done, actor=bob, root_cause="Real cause")

    response = run_action(admin_client_for, "resolve_as_false_positive", [noisy, done])

    noisy.refresh_from_db()
    assert (noisy.status, noisy.false_positive, noisy.root_cause, noisy.resolved_at) == (
        "resolved",
        True,
        FALSE_POSITIVE_ROOT_CAUSE,
        T0,
    )
    [event] = events(noisy, EventKind.RESOLVED)
    assert event.actor == alice
    done.refresh_from_db()
    assert (done.root_cause, done.false_positive) == ("Real cause", False)
    assert f"{done.ref}: {done.ref} is already resolved." in messages_of(response)


def test_staff_without_the_respond_permission_are_not_offered_the_actions(client, incident):
    reader = factories.viewer("reader")
    reader.is_staff = True
    reader.save(update_fields=["is_staff"])
    client.force_login(reader)

    response = client.get(url(Incident, "changelist"))
    refused = run_action(client, "acknowledge_selected", [incident])

    assert response.status_code == 200
    assert b"acknowledge_selected" not in response.content
    incident.refresh_from_db()
    assert refused.status_code == 200  # "no action selected", nothing done
    assert incident.acknowledged_at is None


# --- adding and editing an incident --------------------------------------------------


def test_adding_an_incident_declares_it_through_the_service(admin_client_for, alice, bob):
    api = Service.objects.create(name="api")

    response = admin_client_for.post(
        url(Incident, "add"),
        {
            "title": "Payments failing",
            "severity": "P0",
            "source": "user_report",
            "detected_at_0": "2026-11-25",
            "detected_at_1": "09:58:00",
            "commander": bob.pk,
            "services": [api.pk],
            "summary": "Card payments time out",
            "impact": "No orders",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get()
    assert incident.ref == "INC-20261125-001"
    assert response["Location"] == url(Incident, "changelist")
    assert (incident.declared_by, incident.detected_at, incident.source) == (
        alice,
        T0 - timedelta(minutes=2),
        "user_report",
    )
    assert incident.commander == bob
    assert list(incident.services.all()) == [api]
    [declared] = events(incident, EventKind.DECLARED)
    assert declared.actor == alice
    ack = Deadline.objects.get(incident=incident, kind=DeadlineKind.ACKNOWLEDGE)
    assert ack.due_at == incident.detected_at + timedelta(minutes=5)


def test_adding_an_incident_without_detection_time_means_now(admin_client_for):
    response = admin_client_for.post(
        url(Incident, "add"), {"title": "Slow search", "severity": "P2", "source": "anomaly"}
    )

    assert response.status_code == 302
    assert Incident.objects.get().detected_at == T0


def test_adding_an_incident_detected_in_the_future_shows_the_error_and_writes_nothing(
    admin_client_for,
):
    response = admin_client_for.post(
        url(Incident, "add"),
        {
            "title": "From the future",
            "severity": "P1",
            "source": "team_member",
            "detected_at_0": "2026-11-26",
            "detected_at_1": "10:00:00",
        },
    )

    # At the field, with the input kept (the service's check, timebounds).
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"detected_at": ["This time is in the future."]}
    assert form["title"].value() == "From the future"
    assert Incident.objects.count() == TimelineEvent.objects.count() == 0
    assert ReferenceCounter.objects.count() == 0


def test_the_change_form_edits_details_through_the_service_and_ignores_state_fields(
    admin_client_for, alice, incident
):
    page = admin_client_for.get(url(Incident, "change", incident.pk))
    data = form_data(page)
    data.update(
        title="Checkout API down",
        severity="P0",
        status="resolved",
        ref="INC-19990101-999",
        acknowledged_at_0="2026-11-25",
    )

    response = admin_client_for.post(url(Incident, "change", incident.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.title == "Checkout API down"
    assert (incident.ref, incident.severity, incident.status, incident.acknowledged_at) == (
        "INC-20261125-001",
        "P1",
        "investigating",
        None,
    )
    [event] = events(incident, EventKind.FIELDS_CHANGED)
    assert event.actor == alice
    assert event.after == {"title": "Checkout API down"}


def test_state_fields_are_read_only_in_the_change_form(admin_client_for, incident):
    page = admin_client_for.get(url(Incident, "change", incident.pk))

    editable = set(page.context["adminform"].form.fields)
    assert editable == {"title", "summary", "impact", "services", "customer_impacting"}


def test_the_role_inline_hands_over_command_through_the_service(
    admin_client_for, alice, bob, incident
):
    services.incident_assign_role(incident=incident, actor=bob, role=Role.COMMANDER, user=bob)

    response = post_with_row(
        admin_client_for, incident, AssignRoleForm, {"role": Role.COMMANDER, "user": alice.pk}
    )

    assert response.status_code == 302
    history = RoleAssignment.objects.filter(incident=incident, role=Role.COMMANDER)
    assert [(a.user, a.relieved_at) for a in history] == [(bob, T0), (alice, None)]
    event = events(incident, EventKind.ROLE_ASSIGNED)[-1]
    assert (event.actor, event.before, event.after) == (
        alice,
        {"role": "commander", "user": "bob"},
        {"role": "commander", "user": "alice"},
    )


def test_the_update_inline_posts_through_the_service(admin_client_for, alice, incident):
    row = {"message": "Fix deployed", "status": "monitoring", "visibility": "public"}

    response = post_with_row(admin_client_for, incident, PostUpdateForm, row)

    assert response.status_code == 302
    update = StatusUpdate.objects.get(incident=incident)
    assert (update.author, update.status, update.visibility) == (alice, "monitoring", "public")
    assert events(incident, EventKind.UPDATE_POSTED)[0].actor == alice
    incident.refresh_from_db()
    assert incident.status == "monitoring"


def role_row(response):
    """The "assign a role" row of the incident page as shown (again)."""
    [row] = [
        inline.formset.forms[0]
        for inline in response.context["inline_admin_formsets"]
        if issubclass(inline.formset.form, AssignRoleForm)
    ]
    return row


def test_a_refused_role_row_shows_beside_its_field_and_leaves_the_whole_page_unsaved(
    admin_client_for, vera, incident
):
    row = {"role": Role.COMMANDER, "user": vera.pk}
    events_before = TimelineEvent.objects.count()

    response = post_with_row(admin_client_for, incident, AssignRoleForm, row, title="Renamed")

    # The page again: the service's words beside the row's person, the input kept.
    assert response.status_code == 200
    assert role_row(response).errors == {
        "user": ["vera is not a responder; only responders can hold incident roles."]
    }
    assert response.context["adminform"].form["title"].value() == "Renamed"
    # The title was saved before the row was refused, and rolled back with it.
    incident.refresh_from_db()
    assert incident.title == "Checkout API returning 500s"
    assert TimelineEvent.objects.count() == events_before
    assert not RoleAssignment.objects.filter(incident=incident).exists()


def test_a_refusal_about_no_field_of_the_row_shows_above_the_row(admin_client_for, bob, incident):
    services.incident_assign_role(incident=incident, actor=bob, role=Role.COMMANDER, user=bob)

    response = post_with_row(
        admin_client_for, incident, AssignRoleForm, {"role": Role.COMMANDER, "user": bob.pk}
    )

    assert response.status_code == 200
    assert role_row(response).non_field_errors() == [
        f"bob is already incident commander of {incident.ref}."
    ]
    assert RoleAssignment.objects.filter(incident=incident).count() == 1


def test_a_declaration_refused_for_no_field_of_the_form_shows_above_it_and_writes_nothing(
    admin_client_for, vera
):
    response = admin_client_for.post(
        url(Incident, "add"),
        {"title": "Slow search", "severity": "P2", "source": "anomaly", "commander": vera.pk},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == [
        "vera is not a responder; only responders can hold incident roles."
    ]
    assert form["commander"].value() == str(vera.pk)
    assert Incident.objects.count() == ReferenceCounter.objects.count() == 0


def test_a_resolved_incident_offers_no_role_or_update_rows_until_reopened(
    admin_client_for, bob, incident
):
    services.incident_resolve(incident=incident, actor=bob, root_cause="Disk full")

    page = admin_client_for.get(url(Incident, "change", incident.pk))

    assert page.status_code == 200
    forms = [inline.formset.form for inline in page.context["inline_admin_formsets"]]
    assert not any(issubclass(f, AssignRoleForm | PostUpdateForm) for f in forms)


def test_relieve_action_relieves_through_the_service(admin_client_for, alice, bob, incident):
    services.incident_assign_role(incident=incident, actor=bob, role=Role.RESPONDER, user=bob)
    assignment = RoleAssignment.objects.get(incident=incident)

    response = admin_client_for.post(
        url(RoleAssignment, "changelist"),
        {"action": "relieve_selected", "_selected_action": [assignment.pk]},
    )

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.relieved_at == T0
    [event] = events(incident, EventKind.ROLE_RELIEVED)
    assert event.actor == alice


def test_incidents_cannot_be_deleted_in_the_admin(admin_client_for, incident):
    response = admin_client_for.post(url(Incident, "delete", incident.pk), {"post": "yes"})

    assert response.status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()
