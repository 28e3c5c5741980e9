"""How every admin page saves (``incidents.admin.common.ServiceAdminMixin``):
Django validates the forms, the services store the rows and hold the rules,
the uniqueness of inline rows too, and a page that would hand a service a row
its form had already changed fails loudly instead of saving nothing."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.forms import modelform_factory
from django.test import RequestFactory

from incidents.admin.common import ServiceAdminMixin
from incidents.admin.contacts import ContactMethodForm
from incidents.models import (
    AuditEntry,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    Rotation,
    Schedule,
)
from tests.admin_support import form_data, inline_prefix, signed_in, url, with_row

pytestmark = pytest.mark.django_db


def test_two_identical_new_rows_are_refused_by_the_service_beside_the_second(alice, bob):
    client = signed_in(alice)
    page = client.get(url(type(bob), "change", bob.pk))
    data, prefix = form_data(page), inline_prefix(page, ContactMethodForm)
    row = {"kind": "email", "value": "bob@pager.test", "enabled": "on"}
    data = with_row(with_row(data, prefix, row), prefix, row)

    response = client.post(url(type(bob), "change", bob.pk), data)

    assert response.status_code == 200
    [contacts] = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == prefix
    ]
    # The service's words, as the profile page and the API give them, not the formset's.
    assert [form.errors for form in contacts.forms] == [
        {},
        {"value": ["Bob already has this contact method."]},
    ]
    assert contacts.non_form_errors() == []
    assert not ContactMethod.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_change_form_that_copies_its_input_onto_the_row_is_refused_loudly(alice):
    changed = []

    class CopyingScheduleAdmin(ServiceAdminMixin, admin.ModelAdmin):
        def change_row(self, request, schedule, changes) -> None:
            changed.append(changes)

    schedule = Schedule.objects.get(slug="on-call-engineer")
    form = modelform_factory(Schedule, fields=["name"])({"name": "Renamed"}, instance=schedule)
    assert form.is_valid()
    request = RequestFactory().post("/admin/")
    request.user = alice

    with pytest.raises(ImproperlyConfigured, match="must be a ServiceForm"):
        CopyingScheduleAdmin(Schedule, admin.site).save_model(request, schedule, form, True)
    assert changed == []


def a_level_on_the_technical_path(alice) -> tuple:
    policy = EscalationPolicy.objects.get(path="technical")
    return (
        policy,
        "levels",
        {"level": "5", "name": "Chief", "starts_after_minutes": "90", "user": alice.pk},
    )


def a_rotation_on_the_engineers_schedule(alice) -> tuple:
    schedule = Schedule.objects.get(slug="on-call-engineer")
    row = {"name": "Extra", "priority": "3", "interval": "weekly"}
    return schedule, "rotations", {**row, "starts_at_0": "2026-01-01", "starts_at_1": "09:00"}


@pytest.mark.parametrize(
    ("given", "model", "parent_field", "action"),
    [
        (a_level_on_the_technical_path, EscalationLevel, "policy", "escalation_level_create"),
        (a_rotation_on_the_engineers_schedule, Rotation, "schedule", "rotation_create"),
    ],
    ids=["policy's level", "schedule's rotation"],
)
def test_a_row_added_on_its_parents_page_is_stored_by_the_service_under_that_parent(
    alice, given, model, parent_field, action
):
    parent, prefix, row = given(alice)
    client = signed_in(alice)
    page = client.get(url(type(parent), "change", parent.pk))

    response = client.post(
        url(type(parent), "change", parent.pk), with_row(form_data(page), prefix, row)
    )

    assert response.status_code == 302
    added = model.objects.get(name=row["name"], **{parent_field: parent})
    entry = AuditEntry.objects.get(action=action)
    assert (entry.object_id, entry.actor) == (str(added.pk), alice)
