"""``alert_record`` under concurrency, each thread on its own connection:
two alerts of one fingerprint never open two incidents, batches that share
fingerprints neither deadlock nor lose a count, and an alert never joins an
incident resolved while it waited."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from incidents.ingest.types import ParsedAlert
from incidents.models import Alert, Incident, Integration
from incidents.services import alert_record, incident_resolve
from tests.ingest_support import alert

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(integration: Integration, batches: list[list[ParsedAlert]]) -> list[list[str]]:
    """Record each batch in its own thread, all released together; the
    actions of each, or the first error raised."""
    barrier = threading.Barrier(len(batches))
    results: list = [None] * len(batches)

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes = alert_record(integration=integration, kind="generic", alerts=batches[n])
            results[n] = [o.action for o in outcomes]
        except BaseException as exc:  # reported by the test
            results[n] = exc
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a batch hung"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    return results


def test_simultaneous_alerts_of_a_new_fingerprint_open_one_incident(prom):
    results = at_once(prom, [[alert("disk")] for _ in range(8)])

    assert sorted(action for [action] in results) == ["joined"] * 7 + ["opened"]
    assert Incident.objects.get().alert_count == 8


@pytest.mark.parametrize("opened_before", [False, True])
def test_batches_sharing_fingerprints_in_any_order_neither_deadlock_nor_lose_a_count(
    prom, opened_before
):
    hosts = [f"host-{n}" for n in range(6)]
    if opened_before:
        alert_record(integration=prom, kind="generic", alerts=[alert(h) for h in hosts])
    orders = [hosts, hosts[::-1], hosts[3:] + hosts[:3], hosts[::2] + hosts[1::2]] * 2

    at_once(prom, [[alert(h) for h in order] for order in orders])

    expected = len(orders) * len(hosts) + (len(hosts) if opened_before else 0)
    assert Incident.objects.count() == len(hosts)
    assert Alert.objects.count() == expected
    assert sum(Incident.objects.values_list("alert_count", flat=True)) == expected


def wait_for_a_lock_wait(timeout: float = 10) -> None:
    """Until some session of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("no session waited for the lock")


def test_an_alert_waiting_on_an_incident_being_resolved_opens_a_new_one(prom, bob):
    [opened] = alert_record(integration=prom, kind="generic", alerts=[alert("disk")])
    first = Incident.objects.get(ref=opened.incident)
    locked, release = threading.Event(), threading.Event()
    outcome: list = []

    def resolve_slowly() -> None:
        try:
            with transaction.atomic():
                incident_resolve(
                    incident=first, actor=bob, root_cause="Full disk", resolution="Cleaned up"
                )
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    def send() -> None:
        try:
            outcome.extend(alert_record(integration=prom, kind="generic", alerts=[alert("disk")]))
        finally:
            connection.close()

    resolver, sender = threading.Thread(target=resolve_slowly), threading.Thread(target=send)
    resolver.start()
    assert locked.wait(timeout=10)
    sender.start()
    wait_for_a_lock_wait()  # the alert waits for the incident...
    release.set()  # ...which is resolved, and only then may it look again
    resolver.join(timeout=20)
    sender.join(timeout=20)

    [after] = outcome
    assert after.action == "opened" and after.incident != first.ref
    first.refresh_from_db()
    assert (first.status, first.alert_count) == ("resolved", 1)
    assert Incident.objects.get(ref=after.incident).alert_count == 1
