"""References ``INC-YYYYMMDD-NNN``: unique under concurrent declarations,
numbered per day of detection."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from incidents.models import Incident, TimelineEvent
from tests import factories

DAY = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def declare_at_once(calls: list[dict]) -> tuple[list[str], list[BaseException]]:
    """Run one ``incident_declare`` per entry of ``calls`` in its own thread,
    all released at the same moment; returns the refs and any errors."""
    barrier = threading.Barrier(len(calls))
    refs: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(overrides: dict) -> None:
        try:
            barrier.wait(timeout=10)
            incident = factories.declare(actor=None, **overrides)
            with lock:
                refs.append(incident.ref)
        except BaseException as exc:  # reported to the test below
            with lock:
                errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(overrides,)) for overrides in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a declaration hung"
    return refs, errors


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_declarations_get_ten_consecutive_references(time_machine):
    time_machine.move_to(DAY, tick=False)

    refs, errors = declare_at_once([{"title": f"Alert storm {n}"} for n in range(10)])

    assert errors == []
    assert sorted(refs) == [f"INC-20261128-{n:03d}" for n in range(1, 11)]
    assert Incident.objects.count() == 10
    assert TimelineEvent.objects.filter(kind="declared").count() == 10


@pytest.mark.django_db(transaction=True)
def test_simultaneous_declarations_creating_services_in_opposite_orders_do_not_deadlock(
    time_machine,
):
    time_machine.move_to(DAY, tick=False)
    orders = [["search", "billing", "web"], ["web", "billing", "search"]] * 4

    refs, errors = declare_at_once([{"services": names} for names in orders])

    assert errors == []
    assert len(set(refs)) == 8
    for incident in Incident.objects.all():
        assert sorted(incident.services.values_list("name", flat=True)) == [
            "billing",
            "search",
            "web",
        ]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Declarations in order, each (the clock, when it was detected or None: now),
# and the references they get: a counter per UTC day of detection.
UTC_PLUS_2 = timezone(timedelta(hours=2))
REFERENCE_DAYS = {
    "the counter restarts each day": (
        [(utc(2026, 11, 28, 23, 58), None)] * 2 + [(utc(2026, 11, 29, 0, 1), None)],
        ["INC-20261128-001", "INC-20261128-002", "INC-20261129-001"],
    ),
    "the day of detection, not of declaration": (
        [(utc(2026, 11, 29, 0, 20), None), (utc(2026, 11, 29, 0, 20), utc(2026, 11, 28, 23, 50))],
        ["INC-20261129-001", "INC-20261128-001"],
    ),
    "the day of detection in UTC": (
        # 00:30 in UTC+2 on the 29th is 22:30 UTC on the 28th.
        [(utc(2026, 11, 29, 12), datetime(2026, 11, 29, 0, 30, tzinfo=UTC_PLUS_2))],
        ["INC-20261128-001"],
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("declarations", "refs"), REFERENCE_DAYS.values(), ids=REFERENCE_DAYS)
def test_references_count_per_utc_day_of_detection(bob, time_machine, declarations, refs):
    made = []
    for now, detected_at in declarations:
        time_machine.move_to(now, tick=False)
        detected = {"detected_at": detected_at} if detected_at else {}
        made.append(factories.declare(actor=bob, **detected).ref)

    assert made == refs
