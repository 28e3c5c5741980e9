"""One rule, one refusal (issue 10, item 3): for each rule of on-call and the
policies, every entry point that exposes it (API, admin, dashboard) refuses
the same input the same way, because each calls the one service that holds
the rule, and writes nothing: no row changes and no audit entry appears.

A refusal is read the same way at each entry point: ``invalid`` and the
fields named (API: 400 and ``errors``; admin: the form shown again with the
error beside the field, on the page's form or an inline row; dashboard: 400
and the form's errors), ``conflict`` (API: 409; admin: a message, nothing
deleted) or ``forbidden`` (403).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.urls import reverse

from incidents.models import (
    AuditEntry,
    EscalationLevel,
    EscalationPolicy,
    Override,
    Rotation,
    RotationMember,
    Schedule,
    SeverityPolicy,
)
from tests import factories
from tests.admin_support import empty_inlines, form_data, inline_rows, with_row
from tests.admin_support import url as admin_url
from tests.api_support import API, token_client
from tests.oncall_support import (
    T0,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

INVALID, CONFLICT, FORBIDDEN = "invalid", "conflict", "forbidden"
# Every model these rules guard, compared whole before and after a refusal.
GUARDED = (
    Schedule,
    Rotation,
    RotationMember,
    Override,
    EscalationPolicy,
    EscalationLevel,
    SeverityPolicy,
    AuditEntry,
)
START, END = "2026-03-03T18:00:00", "2026-03-04T08:00:00"


@pytest.fixture
def primary(alice, bob):
    """bob, then alice, weekly: bob may take shifts here."""
    sched = Schedule.objects.create(name="Primary", slug="primary")
    factories.rotation(sched, [bob, alice], starts_at=T0 - timedelta(days=1))
    return sched


@pytest.fixture
def others(alice):
    """A schedule whose rotation does not include bob."""
    sched = Schedule.objects.create(name="Others", slug="others")
    factories.rotation(sched, [alice])
    return sched


@pytest.fixture
def dave(db):
    """A person who left: deactivated."""
    person = factories.responder("dave")
    person.is_active = False
    person.save(update_fields=["is_active"])
    return person


def stored() -> dict:
    rows = {model.__name__: model.objects.order_by("pk") for model in GUARDED}
    # The API client's own token (made as the call starts) is not the change tried.
    rows["AuditEntry"] = rows["AuditEntry"].exclude(object_type="apitoken")
    return {name: list(queryset.values()) for name, queryset in rows.items()}


def refused(entry_point, expected) -> None:
    """Run ``entry_point`` (a no-argument callable), expect ``expected`` and no write."""
    before = stored()
    assert entry_point() == expected
    assert stored() == before


# --- reading a refusal at each entry point ------------------------------------------


def api(response) -> tuple:
    if response.status_code == 400:
        return INVALID, set(response.json().get("errors", {}))
    if response.status_code == 409:
        return CONFLICT, None
    if response.status_code == 403:
        return FORBIDDEN, None
    return "accepted", response.status_code


def admin_form(response) -> tuple:
    """The fields the admin page shows errors beside (its form and inline rows)."""
    if response.status_code != 200:
        return "accepted", response.status_code
    fields = set(response.context["adminform"].form.errors)
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            fields |= set(form.errors)
        if inline.formset.non_form_errors():
            fields.add("__all__")
    return INVALID, fields


def admin_message(response) -> tuple:
    """A refused delete or action: back with an error message."""
    levels = [m.level for m in get_messages(response.wsgi_request)]
    if response.status_code == 302 and messages.ERROR in levels:
        return CONFLICT, None
    return "accepted", response.status_code


def dashboard(response, schedule) -> tuple:
    if response.status_code == 403:
        return FORBIDDEN, None
    if response.status_code != 400:
        return "accepted", response.status_code
    [card] = [c for c in response.context["cards"] if c["schedule"].pk == schedule.pk]
    return INVALID, set(card["form"].errors)


# --- posting like a browser ----------------------------------------------------------------


def split(name: str, moment: str) -> dict:
    day, time = moment.split("T")
    return {f"{name}_0": day, f"{name}_1": time}


def admin_change(client, obj, **changes):
    page = client.get(admin_url(type(obj), "change", obj.pk))
    return client.post(admin_url(type(obj), "change", obj.pk), {**form_data(page), **changes})


def admin_inline_row(client, obj, prefix: str, row: dict):
    page = client.get(admin_url(type(obj), "change", obj.pk))
    return client.post(
        admin_url(type(obj), "change", obj.pk), with_row(form_data(page), prefix, row)
    )


def signed_in(client, user):
    client.force_login(user)
    return client


def add_override(entry: str, client, by, schedule, user, starts: str, ends: str) -> tuple:
    """Put ``user`` on call on ``schedule`` from ``starts`` to ``ends``
    through ``entry`` ("api", "dashboard" or "admin") as ``by``; the
    outcome read as that entry point shows it."""
    if entry == "api":
        body = {"user": user.username, "starts_at": starts + "Z", "ends_at": ends + "Z"}
        url = f"{API}/schedules/{schedule.pk}/overrides/"
        return api(token_client(by).post(url, body, format="json"))
    if entry == "dashboard":
        p = f"s{schedule.pk}-"
        body = {p + "user": user.pk, p + "starts_at": starts[:16], p + "ends_at": ends[:16]}
        url = reverse("incidents:override-add", args=[schedule.pk])
        return dashboard(signed_in(client, by).post(url, body), schedule)
    assert entry == "admin"
    body = {"schedule": schedule.pk, "user": user.pk, **split("starts_at", starts)}
    body |= split("ends_at", ends)
    return admin_form(signed_in(client, by).post(admin_url(Override, "add"), body))


# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["api", "admin", "admin bulk delete"])
def test_a_schedule_an_escalation_level_pages_is_not_deleted(client, alice, entry):
    schedule = Schedule.objects.get(slug="senior-engineer")
    spare = Schedule.objects.create(name="Spare", slug="spare")
    calls = {
        "api": lambda: api(token_client(alice).delete(f"{API}/schedules/{schedule.pk}/")),
        "admin": lambda: admin_message(
            signed_in(client, alice).post(
                admin_url(Schedule, "delete", schedule.pk), {"post": "yes"}
            )
        ),
        "admin bulk delete": lambda: admin_message(
            signed_in(client, alice).post(
                admin_url(Schedule, "changelist"),
                {
                    "action": "delete_selected",
                    "post": "yes",
                    # The first could go; the second may not: neither goes.
                    "_selected_action": [spare.pk, schedule.pk],
                },
            )
        ),
    }

    refused(calls[entry], (CONFLICT, None))


@pytest.mark.parametrize("entry", ["api", "admin"])
def test_an_acknowledge_target_and_next_business_day_are_refused_together(client, alice, entry):
    p3 = SeverityPolicy.objects.get(severity="P3")
    calls = {
        "api": lambda: api(
            token_client(alice).patch(
                f"{API}/severities/P3/", {"ack_target_seconds": 600}, format="json"
            )
        ),
        "admin": lambda: admin_form(
            admin_change(signed_in(client, alice), p3, ack_target_seconds="600")
        ),
    }

    refused(calls[entry], (INVALID, {"ack_target_seconds"}))


NOBODY = {"level": "9", "name": "Nobody", "starts_after_minutes": "90"}


@pytest.mark.parametrize("entry", ["admin level", "admin policy's inline"])
@pytest.mark.parametrize(
    ("row", "field"),
    [(NOBODY, "schedule"), ({**NOBODY, "level": "0", "user": "ALICE"}, "level")],
    ids=["pages nobody", "level 0"],
)
def test_an_escalation_level_must_page_someone_from_level_1(client, alice, entry, row, field):
    policy = EscalationPolicy.objects.get(path="technical")
    row = {name: str(alice.pk) if value == "ALICE" else value for name, value in row.items()}
    calls = {
        "admin level": lambda: admin_form(
            signed_in(client, alice).post(
                admin_url(EscalationLevel, "add"), {"policy": policy.pk, **row}
            )
        ),
        "admin policy's inline": lambda: admin_form(
            admin_inline_row(signed_in(client, alice), policy, "levels", row)
        ),
    }

    refused(calls[entry], (INVALID, {field}))


@pytest.mark.parametrize("entry", ["api", "dashboard", "admin", "admin schedule's inline"])
def test_an_override_ending_before_it_starts_is_refused(client, primary, alice, bob, entry):
    def attempt() -> tuple:
        if entry == "admin schedule's inline":
            row = {"user": bob.pk, **split("starts_at", END), **split("ends_at", START)}
            return admin_form(admin_inline_row(signed_in(client, alice), primary, "overrides", row))
        by = alice if entry == "admin" else bob  # the admin is a manager's
        return add_override(entry, client, by, primary, bob, END, START)

    refused(attempt, (INVALID, {"ends_at"}))


@pytest.mark.parametrize("entry", ["api", "dashboard", "admin"])
def test_a_deactivated_person_is_not_put_on_call(client, primary, alice, dave, entry):
    attempt = partial(add_override, entry, client, alice, primary, dave, START, END)

    refused(attempt, (INVALID, {"user"}))


@pytest.mark.parametrize("entry", ["api", "dashboard"])
@pytest.mark.parametrize(
    ("where", "who"),
    [("primary", "alice"), ("others", "bob")],
    ids=["someone else", "a schedule not theirs"],
)
def test_a_responder_puts_only_themselves_on_call_on_their_own_schedules(
    request, client, bob, entry, where, who
):
    schedule, person = request.getfixturevalue(where), request.getfixturevalue(who)
    attempt = partial(add_override, entry, client, bob, schedule, person, START, END)

    refused(attempt, (FORBIDDEN, None))


@pytest.mark.parametrize("entry", ["api", "dashboard"])
def test_a_responder_removes_only_covers_of_their_own(client, primary, alice, bob, vera, entry):
    cover = factories.override(primary, vera, created_by=alice)
    calls = {
        "api": lambda: api(
            token_client(bob).delete(f"{API}/schedules/{primary.pk}/overrides/{cover.pk}/")
        ),
        "dashboard": lambda: (
            (FORBIDDEN, None)
            if signed_in(client, bob)
            .post(reverse("incidents:override-remove", args=[cover.pk]))
            .status_code
            == 403
            else "accepted"
        ),
    }

    refused(calls[entry], (FORBIDDEN, None))


CUSTOM = {"name": "Odd", "priority": "0", "interval": "custom", **split("starts_at", START)}


@pytest.mark.parametrize("entry", ["admin rotation", "admin schedule's inline"])
def test_a_custom_rotation_needs_shift_hours(client, primary, alice, bob, entry):
    calls = {
        "admin rotation": lambda: admin_form(
            signed_in(client, alice).post(
                admin_url(Rotation, "add"),
                {
                    "schedule": primary.pk,
                    **CUSTOM,
                    **inline_rows("members", {"position": "0", "user": bob.pk}),
                },
            )
        ),
        "admin schedule's inline": lambda: admin_form(
            admin_inline_row(signed_in(client, alice), primary, "rotations", CUSTOM)
        ),
    }

    refused(calls[entry], (INVALID, {"shift_hours"}))


@pytest.mark.parametrize("entry", ["api create", "api update", "admin add", "admin change"])
def test_a_schedule_needs_an_iana_time_zone(client, primary, alice, entry):
    new = {"name": "Nowhere", "slug": "nowhere", "time_zone": "Mars/Base"}
    calls = {
        "api create": lambda: api(
            token_client(alice).post(f"{API}/schedules/", new, format="json")
        ),
        "api update": lambda: api(
            token_client(alice).patch(
                f"{API}/schedules/{primary.pk}/", {"time_zone": "Berlin"}, format="json"
            )
        ),
        "admin add": lambda: admin_form(
            signed_in(client, alice).post(
                admin_url(Schedule, "add"), {**new, **empty_inlines("rotations", "overrides")}
            )
        ),
        "admin change": lambda: admin_form(
            admin_change(signed_in(client, alice), primary, time_zone="Berlin")
        ),
    }

    refused(calls[entry], (INVALID, {"time_zone"}))


@pytest.mark.parametrize("entry", ["api", "admin"])
def test_a_schedule_slug_is_used_once(client, primary, alice, entry):
    new = {"name": "Another", "slug": "primary", "time_zone": "UTC"}
    calls = {
        "api": lambda: api(token_client(alice).post(f"{API}/schedules/", new, format="json")),
        "admin": lambda: admin_form(
            signed_in(client, alice).post(
                admin_url(Schedule, "add"), {**new, **empty_inlines("rotations", "overrides")}
            )
        ),
    }

    refused(calls[entry], (INVALID, {"slug"}))
