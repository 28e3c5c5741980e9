"""On-call fixtures shared by the on-call tests: a schedule (``primary``), a
weekly rotation of bob then alice on it (``weekly``), an override of bob's
(``cover``), the guide's technical escalation policy (``technical``), and
the clock standing at ``NOW`` (``frozen``, autouse). A test module imports
the functions; pytest knows them by those names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import services
from incidents.models import EscalationPolicy

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
START, END = NOW + timedelta(days=1), NOW + timedelta(days=1, hours=8)


@pytest.fixture(name="frozen", autouse=True)
def frozen_at_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(name="primary")
def primary_schedule(alice, bob):
    return services.schedule_create(actor=alice, name="Primary")


@pytest.fixture(name="weekly")
def weekly_rotation(alice, bob, primary):
    return services.rotation_create(
        actor=alice, schedule=primary, name="Weekly", starts_at=NOW, members=[bob, alice]
    )


@pytest.fixture(name="cover")
def bobs_override(alice, bob, primary):
    return services.override_add(
        actor=alice, schedule=primary, user=bob, starts_at=START, ends_at=END
    )


@pytest.fixture(name="technical")
def technical_policy():
    return EscalationPolicy.objects.get(path="technical")


def weekly_people(rotation) -> list:
    return [m.user for m in rotation.members.order_by("position")]


def deleting(service, **kwargs) -> int:
    """Call a service that deletes; the id of the row it deleted."""
    [target] = [value for name, value in kwargs.items() if name != "actor"]
    pk = target.pk
    service(**kwargs)
    return pk
