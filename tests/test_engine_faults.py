"""Faults the engine must survive (issue 4, "Proof"): each test runs its own
Redis and Celery processes on spare ports, so the shared servers stay up.

- a worker SIGKILLed in the middle of a delivery,
- Redis gone during a burst of declarations,
- two beats at once,
- a receiver answering 500 before 200.

Losing a process or the broker may delay work, never lose or double it; a
repeat after a crash carries the same idempotency key.
"""

from __future__ import annotations

from collections import Counter

import pytest

from incidents.models import EventKind, Notification, NotificationStatus, TimelineEvent
from tests import factories
from tests.engine_harness import Engine
from tests.engine_scenarios import (
    age,
    escalated_levels,
    guide_channels,
    mail_to,
    pagerduty_events,
    settled,
    staff_the_ladder,
)
from tests.worker_support import eventually

pytestmark = pytest.mark.transactional


@pytest.fixture
def bob(transactional_db):
    return factories.responder("bob")


def _delivered(rows) -> bool:
    ids = [r.pk for r in rows]
    return Notification.objects.filter(
        pk__in=ids, status=NotificationStatus.DELIVERED
    ).count() == len(ids)


def test_worker_killed_mid_delivery_delivers_later_with_the_same_key(transactional_db, bob):
    with Engine() as engine:
        rec = engine.recorder
        guide_channels(rec, "webhook")
        # The receiver holds its answer: the worker is inside the request when it dies.
        rec.delay("/webhook", 8)
        incident = factories.declare(actor=bob, severity="P2", title="Worker dies")
        row = Notification.objects.get(incident=incident)
        rec.wait_for(1, timeout=15)
        engine.workers[0].kill()  # SIGKILL, the whole process group
        row.refresh_from_db()
        assert row.status == NotificationStatus.SENDING  # sent, outcome never recorded

        # A new worker: the relay republishes the row once its lease lapses.
        engine.add("worker")
        eventually(lambda: _delivered([row]), timeout=30, message="delivered after the kill")

    row.refresh_from_db()
    assert row.attempts == 2
    keys = [r.headers["x-treebeard-delivery"] for r in rec.requests_to("/webhook")]
    # The receiver saw the message twice (the kill fell between sending and
    # recording), both times with one delivery id it can drop the repeat by.
    assert keys == [row.idempotency_key, row.idempotency_key]
    bodies = [r.json() for r in rec.requests_to("/webhook")]
    assert {b["delivery_id"] for b in bodies} == {row.idempotency_key}


def test_redis_outage_during_a_burst_loses_nothing(transactional_db, bob):
    with Engine() as engine:
        rec = engine.recorder
        guide_channels(rec, "webhook", "slack")
        before = [
            factories.declare(actor=bob, severity="P2", title=f"Before {n}") for n in range(2)
        ]
        eventually(settled, message="deliveries before the outage")

        engine.redis.stop()
        # Declaring still works (a failed publish is logged, the rows stay).
        # Each declaration after the first waits ~6 s in kombu's connection
        # retry inside the commit hook (see the report); hence only four.
        during = [
            factories.declare(actor=bob, severity="P2", title=f"During {n}") for n in range(4)
        ]
        rows = list(Notification.objects.filter(incident__in=during))
        assert len(rows) == 8
        assert {r.status for r in rows} == {NotificationStatus.PENDING}
        engine.redis.start()

        eventually(lambda: _delivered(rows), timeout=45, message="burst delivered after Redis")
        eventually(settled)

    # Exactly once per key: one webhook request per delivery id, one Slack
    # message per incident, for every incident before and during the outage.
    keys = Counter(r.headers["x-treebeard-delivery"] for r in rec.requests_to("/webhook"))
    expected = set(
        Notification.objects.filter(transport="webhook").values_list("idempotency_key", flat=True)
    )
    assert set(keys) == expected and len(expected) == 6
    assert set(keys.values()) == {1}
    texts = [r.json()["text"] for r in rec.requests_to("/slack")]
    assert len(texts) == 6
    for incident in before + during:
        assert sum(incident.ref in text for text in texts) == 1, incident.ref


def test_two_beats_never_escalate_twice(transactional_db, bob):
    with Engine(workers=2, beats=2, NOTIFY_EMAIL_MAX_PER_MINUTE="1000") as engine:
        rec, sink = engine.recorder, engine.smtp
        guide_channels(rec, "pagerduty")
        staff_the_ladder()
        incidents = [
            factories.declare(actor=bob, severity="P0", title=f"Outage {n}") for n in range(6)
        ]
        eventually(settled, message="L1 pages out")

        def sweeps_sent() -> list[int]:
            return [b.log_text().count("Sending due task sweep-deadlines") for b in engine.beats]

        # Both beats are publishing sweeps before the rows fall due …
        before = eventually(
            lambda: (lambda n: n if all(n) else None)(sweeps_sent()),
            message="both beats sweeping",
        )
        age(*incidents, minutes=31)  # L2 and L3 fall due together, for all six
        eventually(
            lambda: all(escalated_levels(i) == [2, 3] for i in incidents),
            message="every incident at L3",
        )
        eventually(settled, message="pages delivered")
        # … and after: both raced for the same rows throughout.
        eventually(
            lambda: all(a > b for a, b in zip(sweeps_sent(), before, strict=True)),
            message=lambda: f"both beats still sweeping: {before} → {sweeps_sent()}",
        )

    for incident in incidents:
        escalations = TimelineEvent.objects.filter(incident=incident, kind=EventKind.ESCALATED)
        assert sorted(e.detail["level"] for e in escalations) == [2, 3]
        incident.refresh_from_db()
        assert incident.escalation_level == 3
        # PagerDuty: the trigger and one page per level, each exactly once.
        assert len(pagerduty_events(rec, incident.ref)) == 3
        for address in ("olive@pager.test", "sam@pager.test", "emma@pager.test"):
            assert len(mail_to(sink, address, incident.ref)) == 1, address
    message_ids = [m["Message-ID"] for m in sink.messages]
    assert len(message_ids) == len(set(message_ids)) == 18


def test_receiver_answering_500_then_200_gets_the_message_once(transactional_db, bob):
    with Engine() as engine:
        rec = engine.recorder
        guide_channels(rec, "webhook")
        rec.script("/webhook", [(500, {}, "upstream exploded"), (200, {}, "ok")])
        incident = factories.declare(actor=bob, severity="P2", title="Flaky receiver")
        row = Notification.objects.get(incident=incident)
        eventually(lambda: _delivered([row]), timeout=20, message="delivered after a retry")

    row.refresh_from_db()
    assert row.attempts == 2
    assert row.status == NotificationStatus.DELIVERED
    assert row.last_error == ""
    requests = rec.requests_to("/webhook")
    assert len(requests) == 2
    assert {r.headers["x-treebeard-delivery"] for r in requests} == {row.idempotency_key}
