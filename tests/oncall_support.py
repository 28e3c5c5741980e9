"""On-call constants and helpers shared by the on-call tests. The clock of
a module that imports ``T0`` and uses conftest's ``frozen`` stands at ``T0``;
its fixtures ``primary`` (a schedule), ``weekly`` (bob then alice on it),
``cover`` (an override of bob's) and ``technical`` (the guide's technical
escalation policy) are in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
START, END = T0 + timedelta(days=1), T0 + timedelta(days=1, hours=8)

# A contact value each kind refuses, and what every entry point says of it.
BAD_CONTACT_VALUES = [
    ("email", "not-an-address", "Enter a valid email address."),
    ("pagerduty", "short", "Enter a PagerDuty routing key"),
    ("slack", "two words", "Enter a Slack member ID"),
]


def weekly_people(rotation) -> list:
    return [m.user for m in rotation.members.order_by("position")]


def deleting(service, **kwargs) -> int:
    """Call a service that deletes; the id of the row it deleted."""
    [target] = [value for name, value in kwargs.items() if name != "actor"]
    pk = target.pk
    service(**kwargs)
    return pk
