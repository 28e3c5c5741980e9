"""The audit log of on-call and the policies (issue 10, item 4): each change
writes exactly one audit row (who, what, before and after, through which
entry point) in its own transaction, and a refused one writes none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import audit, services
from incidents.errors import DomainError
from incidents.models import AuditEntry, EntryPoint, EscalationPolicy, Schedule, SeverityPolicy
from tests.api_support import API, token_client
from tests.oncall_support import (
    END,
    START,
    T0,
    deleting,
    weekly_people,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def ref(obj) -> dict:
    return {"id": obj.pk, "name": str(obj)}


def weekly_state(f) -> dict:
    """The ``weekly`` fixture as the audit log keeps it."""
    return {
        "schedule": ref(f["primary"]),
        "name": "Weekly",
        "priority": 0,
        "interval": "weekly",
        "shift_hours": None,
        "starts_at": T0.isoformat(),
        "ends_at": None,
        "members": ["bob", "alice"],
    }


# Each case: the fixtures it needs, the call, and the entry it must write
# (action, object type, before, after; ``ID`` is the object's id).
ID = object()
CASES = {
    "schedule_create": (
        (),
        lambda f: services.schedule_create(
            actor=f["alice"], name="Database team", time_zone="Europe/Berlin"
        ),
        lambda f, done: (
            "schedule",
            None,
            {
                "name": "Database team",
                "slug": "database-team",
                "description": "",
                "time_zone": "Europe/Berlin",
            },
        ),
    ),
    "schedule_update": (
        ("primary",),
        lambda f: services.schedule_update(
            actor=f["alice"], schedule=f["primary"], time_zone="Europe/Berlin", name="Primary"
        ),
        lambda f, done: ("schedule", {"time_zone": "UTC"}, {"time_zone": "Europe/Berlin"}),
    ),
    "schedule_delete": (
        ("primary",),
        lambda f: deleting(services.schedule_delete, actor=f["alice"], schedule=f["primary"]),
        lambda f, done: (
            "schedule",
            {"name": "Primary", "slug": "primary", "description": "", "time_zone": "UTC"},
            None,
        ),
    ),
    "rotation_create": (
        ("primary",),
        lambda f: services.rotation_create(
            actor=f["alice"],
            schedule=f["primary"],
            name="Follow the sun",
            interval="custom",
            shift_hours=8,
            starts_at=T0,
            members=[f["bob"], f["alice"]],
        ),
        lambda f, done: (
            "rotation",
            None,
            {**weekly_state(f), "name": "Follow the sun", "interval": "custom", "shift_hours": 8},
        ),
    ),
    "rotation_update": (
        ("weekly",),
        lambda f: services.rotation_update(actor=f["alice"], rotation=f["weekly"], priority=3),
        lambda f, done: ("rotation", {"priority": 0}, {"priority": 3}),
    ),
    "rotation_set_members": (
        ("weekly",),
        lambda f: services.rotation_set_members(
            actor=f["alice"], rotation=f["weekly"], members=[f["alice"]]
        ),
        lambda f, done: ("rotation", {"members": ["bob", "alice"]}, {"members": ["alice"]}),
    ),
    "rotation_delete": (
        ("weekly", "primary"),
        lambda f: deleting(services.rotation_delete, actor=f["alice"], rotation=f["weekly"]),
        lambda f, done: ("rotation", weekly_state(f), None),
    ),
    "override_add": (
        ("primary",),
        lambda f: services.override_add(
            actor=f["alice"],
            schedule=f["primary"],
            user=f["vera"],
            starts_at=START,
            ends_at=END,
            reason=" holiday ",
        ),
        lambda f, done: (
            "override",
            None,
            {
                "schedule": ref(f["primary"]),
                "user": ref(f["vera"]),
                "starts_at": START.isoformat(),
                "ends_at": END.isoformat(),
                "reason": "holiday",
            },
        ),
    ),
    "override_change": (
        ("cover",),
        lambda f: services.override_change(
            actor=f["alice"], override=f["cover"], reason="swap", ends_at=END + timedelta(hours=1)
        ),
        lambda f, done: (
            "override",
            {"ends_at": END.isoformat(), "reason": ""},
            {"ends_at": (END + timedelta(hours=1)).isoformat(), "reason": "swap"},
        ),
    ),
    "override_remove": (
        ("cover", "primary"),
        lambda f: deleting(services.override_remove, actor=f["alice"], override=f["cover"]),
        lambda f, done: (
            "override",
            {
                "schedule": ref(f["primary"]),
                "user": ref(f["bob"]),
                "starts_at": START.isoformat(),
                "ends_at": END.isoformat(),
                "reason": "",
            },
            None,
        ),
    ),
    "severity_policy_update": (
        (),
        lambda f: services.severity_policy_update(
            actor=f["alice"],
            policy=SeverityPolicy.objects.get(severity="P1"),
            ack_target_seconds=120,
            notify_channels=["slack", "pagerduty"],
            name="High",
        ),
        lambda f, done: (
            "severitypolicy",
            {"ack_target_seconds": 900, "notify_channels": ["slack", "email"]},
            {"ack_target_seconds": 120, "notify_channels": ["slack", "pagerduty"]},
        ),
    ),
    "escalation_policy_update": (
        ("technical",),
        lambda f: services.escalation_policy_update(
            actor=f["alice"], policy=f["technical"], auto_severities=["P1", "P0", "P2", "P2"]
        ),
        lambda f, done: (
            "escalationpolicy",
            {"auto_severities": ["P0", "P1"]},
            {"auto_severities": ["P0", "P1", "P2"]},
        ),
    ),
    "escalation_policy_delete": (
        ("technical",),
        lambda f: deleting(
            services.escalation_policy_delete, actor=f["alice"], policy=f["technical"]
        ),
        lambda f, done: (
            "escalationpolicy",
            {
                "name": "Technical escalation",
                "path": "technical",
                "auto_severities": ["P0", "P1"],
                "description": f["technical"].description,
                "levels": [
                    "L1 On-call engineer",
                    "L2 Senior engineer",
                    "L3 Engineering manager",
                    "L4 VP Engineering / CTO",
                ],
            },
            None,
        ),
    ),
    "escalation_level_create": (
        ("technical",),
        lambda f: services.escalation_level_create(
            actor=f["alice"], policy=f["technical"], level=5, name="CEO", user=f["alice"]
        ),
        lambda f, done: (
            "escalationlevel",
            None,
            {
                "policy": ref(f["technical"]),
                "level": 5,
                "name": "CEO",
                "starts_after_minutes": 0,
                "critical_only": False,
                "schedule": None,
                "user": ref(f["alice"]),
                "group": None,
            },
        ),
    ),
    "escalation_level_update": (
        ("technical",),
        lambda f: services.escalation_level_update(
            actor=f["alice"],
            escalation_level=f["technical"].levels.get(level=2),
            starts_after_minutes=5,
        ),
        lambda f, done: (
            "escalationlevel",
            {"starts_after_minutes": 15},
            {"starts_after_minutes": 5},
        ),
    ),
    "escalation_level_delete": (
        ("technical",),
        lambda f: deleting(
            services.escalation_level_delete,
            actor=f["alice"],
            escalation_level=f["technical"].levels.get(level=4),
        ),
        lambda f, done: (
            "escalationlevel",
            {
                "policy": ref(f["technical"]),
                "level": 4,
                "name": "VP Engineering / CTO",
                "starts_after_minutes": 60,
                "critical_only": True,
                "schedule": ref(Schedule.objects.get(slug="vp-engineering-cto")),
                "user": None,
                "group": None,
            },
            None,
        ),
    ),
}


@pytest.mark.parametrize("action", list(CASES))
def test_each_change_writes_one_audit_row_with_who_what_and_how(request, alice, bob, vera, action):
    needs, call, expected = CASES[action]
    f = {"alice": alice, "bob": bob, "vera": vera}
    f |= {name: request.getfixturevalue(name) for name in needs}
    known = set(AuditEntry.objects.values_list("pk", flat=True))

    done = call(f)

    [entry] = AuditEntry.objects.exclude(pk__in=known)
    object_type, before, after = expected(f, done)
    assert (entry.action, entry.object_type) == (action, object_type)
    assert (entry.actor, entry.actor_name, entry.entry_point) == (
        alice,
        "alice",
        EntryPoint.COMMAND,
    )
    assert (entry.before, entry.after) == (before, after)
    assert entry.object_id == str(done if isinstance(done, int) else done.pk)


def test_restoring_a_missing_severity_policy_is_logged(alice):
    SeverityPolicy.objects.filter(severity="P3").delete()

    services.severity_policy_create(
        actor=alice,
        severity="P3",
        name="Low",
        response_time="Next business day",
        oncall="not_required",
        ack_next_business_day=True,
        notify_channels=["email_digest"],
    )

    [entry] = AuditEntry.objects.filter(action="severity_policy_create")
    assert entry.after["severity"] == "P3"
    assert entry.after["ack_next_business_day"] is True
    with pytest.raises(DomainError) as exc:
        services.severity_policy_create(
            actor=alice, severity="P3", name="Low", response_time="-", oncall="not_required"
        )
    assert (exc.value.field, exc.value.conflict) == ("severity", True)


def test_a_new_escalation_policy_is_logged(alice):
    EscalationPolicy.objects.filter(path="business").delete()

    made = services.escalation_policy_create(
        actor=alice, name="Customers", path="business", auto_severities=["P0"]
    )

    [entry] = AuditEntry.objects.filter(action="escalation_policy_create")
    assert entry.object_id == str(made.pk)
    assert entry.after == {
        "name": "Customers",
        "path": "business",
        "auto_severities": ["P0"],
        "description": "",
    }


def test_a_change_that_changes_nothing_writes_nothing(alice, weekly, cover):
    services.schedule_update(actor=alice, schedule=weekly.schedule, name="Primary")
    services.rotation_set_members(actor=alice, rotation=weekly, members=list(weekly_people(weekly)))
    services.override_change(actor=alice, override=cover, reason="")
    services.severity_policy_update(
        actor=alice, policy=SeverityPolicy.objects.get(severity="P0"), name="Critical"
    )

    assert not AuditEntry.objects.exclude(
        action__in=["schedule_create", "rotation_create", "override_add"]
    ).exists()


# --- which entry point -------------------------------------------------------------


def test_the_audit_row_says_which_entry_point_the_change_came_through(client, alice, bob, weekly):
    schedule = weekly.schedule
    token_client(alice).patch(
        f"{API}/schedules/{schedule.pk}/", {"description": "DBAs"}, format="json"
    )
    client.force_login(bob)
    p = f"s{schedule.pk}-"
    client.post(
        reverse("incidents:override-add", args=[schedule.pk]),
        {
            p + "user": bob.pk,
            p + "starts_at": "2026-03-03T18:00",
            p + "ends_at": "2026-03-04T08:00",
        },
    )
    client.force_login(alice)
    client.post(reverse("admin:incidents_rotation_delete", args=[weekly.pk]), {"post": "yes"})
    with audit.via(EntryPoint.TASK):
        services.schedule_update(actor=None, schedule=schedule, name="Primary team")

    made = ["schedule_create", "rotation_create", "api_token_create"]  # the set-up
    logged = AuditEntry.objects.exclude(action__in=made)
    assert list(logged.order_by("id").values_list("action", "entry_point", "actor_name")) == [
        ("schedule_update", EntryPoint.API, "alice"),
        ("override_add", EntryPoint.DASHBOARD, "bob"),
        ("rotation_delete", EntryPoint.ADMIN, "alice"),
        ("schedule_update", EntryPoint.TASK, ""),
    ]


def test_a_refused_change_writes_no_audit_row(alice, bob, weekly):
    known = AuditEntry.objects.count()

    for refused in (
        lambda: services.rotation_update(actor=alice, rotation=weekly, interval="custom"),
        lambda: services.schedule_update(actor=alice, schedule=weekly.schedule, slug="no spaces"),
        lambda: services.escalation_policy_update(
            actor=alice,
            policy=EscalationPolicy.objects.get(path="technical"),
            auto_severities="P0",
        ),
    ):
        with pytest.raises(DomainError):
            refused()

    assert AuditEntry.objects.count() == known
    weekly.refresh_from_db()
    assert weekly.interval == "weekly"
