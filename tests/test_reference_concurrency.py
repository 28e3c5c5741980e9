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


@pytest.mark.django_db
def test_the_counter_restarts_each_day(bob, time_machine):
    time_machine.move_to(datetime(2026, 11, 28, 23, 58, tzinfo=UTC), tick=False)
    first = factories.declare(actor=bob)
    second = factories.declare(actor=bob)
    time_machine.move_to(datetime(2026, 11, 29, 0, 1, tzinfo=UTC), tick=False)
    next_day = factories.declare(actor=bob)

    assert [first.ref, second.ref, next_day.ref] == [
        "INC-20261128-001",
        "INC-20261128-002",
        "INC-20261129-001",
    ]


@pytest.mark.django_db
def test_the_reference_uses_the_day_of_detection_not_of_declaration(bob, time_machine):
    time_machine.move_to(datetime(2026, 11, 29, 0, 20, tzinfo=UTC), tick=False)
    today = factories.declare(actor=bob)

    late_report = factories.declare(
        actor=bob, detected_at=datetime(2026, 11, 28, 23, 50, tzinfo=UTC)
    )

    assert today.ref == "INC-20261129-001"
    assert late_report.ref == "INC-20261128-001"


@pytest.mark.django_db
def test_the_day_of_detection_is_taken_in_utc(bob, time_machine):
    time_machine.move_to(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), tick=False)
    berlin_early_morning = datetime(2026, 11, 29, 0, 30, tzinfo=timezone(timedelta(hours=2)))

    incident = factories.declare(actor=bob, detected_at=berlin_early_morning)

    assert incident.ref == "INC-20261128-001"  # 22:30 UTC on the 28th
