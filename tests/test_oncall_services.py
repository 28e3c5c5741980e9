"""The services of on-call and the policies (issue 10, items 1 and 4): each
change writes exactly one audit row (who, what, before and after, through
which entry point) in its own transaction, a refused one writes none, and the
rules that lived at one entry point only now hold at all of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from incidents import audit, services
from incidents.errors import DomainError
from incidents.models import (
    AuditEntry,
    EntryPoint,
    EscalationLevel,
    EscalationPolicy,
    Override,
    Rotation,
    RotationMember,
    Schedule,
    SeverityPolicy,
)
from tests import factories
from tests.api_support import API, assert_json_error, token_client

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
START, END = NOW + timedelta(days=1), NOW + timedelta(days=1, hours=8)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def primary(alice, bob):
    return services.schedule_create(actor=alice, name="Primary")


@pytest.fixture
def weekly(alice, bob, primary):
    return services.rotation_create(
        actor=alice, schedule=primary, name="Weekly", starts_at=NOW, members=[bob, alice]
    )


@pytest.fixture
def cover(alice, bob, primary):
    return services.override_add(
        actor=alice, schedule=primary, user=bob, starts_at=START, ends_at=END
    )


@pytest.fixture
def technical():
    return EscalationPolicy.objects.get(path="technical")


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
        "starts_at": NOW.isoformat(),
        "ends_at": None,
        "members": ["bob", "alice"],
    }


def deleting(service, **kwargs) -> int:
    """Call a service that deletes; the id of the row it deleted."""
    [target] = [value for name, value in kwargs.items() if name != "actor"]
    pk = target.pk
    service(**kwargs)
    return pk


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
            starts_at=NOW,
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


def weekly_people(rotation):
    return [m.user for m in rotation.members.order_by("position")]


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


# --- the defects issue 10 names ---------------------------------------------------------


def test_the_admin_says_why_a_schedule_an_escalation_level_pages_is_not_deleted(client, alice):
    schedule = Schedule.objects.get(slug="senior-engineer")
    client.force_login(alice)

    response = client.post(
        reverse("admin:incidents_schedule_delete", args=[schedule.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:incidents_schedule_change", args=[schedule.pk])
    [message] = [m.message for m in get_messages(response.wsgi_request)]
    assert message == (
        "Senior engineer is used by Technical escalation L2; change those levels first."
    )
    assert Schedule.objects.filter(pk=schedule.pk).exists()
    assert not AuditEntry.objects.exists()


def test_the_api_refuses_an_acknowledge_target_with_next_business_day(alice):
    response = token_client(alice).patch(
        f"{API}/severities/P3/", {"ack_target_seconds": 600}, format="json"
    )

    body = assert_json_error(response, 400)
    assert body["errors"] == {
        "ack_target_seconds": [
            "Choose either an acknowledge target in seconds or 'next business day', not both."
        ]
    }
    p3 = SeverityPolicy.objects.get(severity="P3")
    assert (p3.ack_target_seconds, p3.ack_next_business_day) == (None, True)
    # Both at once is a valid change: the fixed target replaces the other.
    changed = token_client(alice).patch(
        f"{API}/severities/P3/",
        {"ack_target_seconds": 600, "ack_next_business_day": False},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["ack_target_seconds"] == 600


def test_an_override_added_in_the_admin_is_stored_and_logged_by_the_service(
    client, alice, bob, weekly
):
    client.force_login(alice)

    response = client.post(
        reverse("admin:incidents_override_add"),
        {
            "schedule": weekly.schedule.pk,
            "user": bob.pk,
            "starts_at_0": "2026-03-03",
            "starts_at_1": "18:00:00",
            "ends_at_0": "2026-03-04",
            "ends_at_1": "08:00:00",
            "reason": " swap ",
        },
    )

    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.created_by, override.reason) == (bob, alice, "swap")
    [entry] = AuditEntry.objects.filter(action="override_add")
    assert (entry.entry_point, entry.actor, entry.object_id) == (
        EntryPoint.ADMIN,
        alice,
        str(override.pk),
    )


# --- rules that were missing or at one entry point only --------------------------------------


def test_a_schedule_an_open_incidents_escalation_pages_is_not_deleted(alice, bob):
    schedule = services.schedule_create(actor=alice, name="DBA")
    level = EscalationLevel.objects.get(policy__path="technical", level=2)
    services.escalation_level_update(actor=alice, escalation_level=level, schedule=schedule)
    incident = factories.declare(actor=bob, severity="P1")
    # The level moves on; the incident keeps the copy it was declared with.
    services.escalation_level_update(
        actor=alice, escalation_level=level, schedule=Schedule.objects.get(slug="senior-engineer")
    )

    with pytest.raises(DomainError) as exc:
        deleting(services.schedule_delete, actor=alice, schedule=schedule)

    assert exc.value.conflict
    assert incident.ref in exc.value.message
    assert Schedule.objects.filter(pk=schedule.pk).exists()


def test_deactivated_people_take_no_turns_and_are_not_paged(alice, bob, weekly):
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    with pytest.raises(DomainError) as members:
        services.rotation_set_members(actor=alice, rotation=weekly, members=[alice, bob])
    with pytest.raises(DomainError) as paged:
        services.escalation_level_create(
            actor=alice,
            policy=EscalationPolicy.objects.get(path="technical"),
            level=5,
            name="Bob",
            user=bob,
        )

    assert (members.value.field, paged.value.field) == ("members", "user")
    assert weekly_people(weekly) == [bob, alice]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"auto_severities": "P0"}, "auto_severities"),
        ({"auto_severities": ["P0", "P5"]}, "auto_severities"),
        ({"path": "business"}, "path"),
        ({"name": " "}, "name"),
    ],
)
def test_an_escalation_policy_is_checked_whole(alice, technical, changes, field):
    with pytest.raises(DomainError) as exc:
        services.escalation_policy_update(actor=alice, policy=technical, **changes)

    assert exc.value.field == field
    technical.refresh_from_db()
    assert (technical.path, technical.auto_severities) == ("technical", ["P0", "P1"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"notify_channels": ["carrier pigeon"]}, "notify_channels"),
        ({"notify_channels": "slack"}, "notify_channels"),
        ({"oncall": "sometimes"}, "oncall"),
        ({"resolve_target_seconds": -1}, "resolve_target_seconds"),
        ({"update_cadence_seconds": 2**31}, "update_cadence_seconds"),
        ({"response_time": ""}, "response_time"),
        ({"oncall_required": "yes"}, "oncall_required"),
    ],
)
def test_a_severity_policy_is_checked_whole(alice, changes, field):
    p0 = SeverityPolicy.objects.get(severity="P0")
    before = SeverityPolicy.objects.values().get(pk=p0.pk)

    with pytest.raises(DomainError) as exc:
        services.severity_policy_update(actor=alice, policy=p0, **changes)

    assert exc.value.field == field
    assert SeverityPolicy.objects.values().get(pk=p0.pk) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"shift_hours": 0, "interval": "custom"}, "shift_hours"),
        ({"shift_hours": 24 * 367, "interval": "custom"}, "shift_hours"),
        ({"priority": -1}, "priority"),
        ({"interval": "fortnightly"}, "interval"),
        ({"starts_at": datetime(9999, 12, 31, tzinfo=UTC)}, "starts_at"),
        ({"ends_at": NOW - timedelta(days=2)}, "ends_at"),
        ({"schedule": None}, "schedule"),
    ],
)
def test_a_rotation_is_checked_whole(alice, weekly, changes, field):
    with pytest.raises(DomainError) as exc:
        services.rotation_update(actor=alice, rotation=weekly, **changes)

    assert exc.value.field == field
    assert Rotation.objects.values().get(pk=weekly.pk)["interval"] == "weekly"


def test_a_rotation_added_in_the_admin_is_one_change_with_its_members(client, alice, bob, primary):
    client.force_login(alice)

    response = client.post(
        reverse("admin:incidents_rotation_add"),
        {
            "schedule": primary.pk,
            "name": "Nights",
            "priority": "1",
            "interval": "daily",
            "starts_at_0": "2026-03-03",
            "starts_at_1": "20:00:00",
            "members-TOTAL_FORMS": "2",
            "members-INITIAL_FORMS": "0",
            "members-0-position": "2",
            "members-0-user": bob.pk,
            "members-1-position": "1",
            "members-1-user": alice.pk,
        },
    )

    assert response.status_code == 302
    rotation = Rotation.objects.get(name="Nights")
    assert weekly_people(rotation) == [alice, bob]  # in position order
    [entry] = AuditEntry.objects.filter(object_type="rotation")
    assert (entry.action, entry.after["members"]) == ("rotation_create", ["alice", "bob"])


def test_rotation_members_are_ordered_on_their_rotation_and_only_removed_alone(
    client, alice, bob, weekly
):
    client.force_login(alice)
    bobs = RotationMember.objects.get(rotation=weekly, user=bob)

    assert client.get(reverse("admin:incidents_rotationmember_add")).status_code == 403
    page = client.get(reverse("admin:incidents_rotationmember_change", args=[bobs.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    removed = client.post(
        reverse("admin:incidents_rotationmember_delete", args=[bobs.pk]), {"post": "yes"}
    )

    assert removed.status_code == 302
    assert weekly_people(weekly) == [alice]
    [entry] = AuditEntry.objects.filter(action="rotation_set_members")
    assert (entry.before, entry.after) == ({"members": ["bob", "alice"]}, {"members": ["alice"]})
