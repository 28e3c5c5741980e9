"""Migration 0005 cleans times stored before every entry point checked them:
back to 0004, rows written as the old code let them be, forward again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from incidents.models import Incident, Override, Rotation, RotationMember, Schedule
from tests import factories

BEFORE = [("incidents", "0004_oncall_escalation_notifications")]
CLEAN = [("incidents", "0005_clean_typed_times")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _set(table: str, pk: int, **columns: str) -> None:
    # Raw SQL: psycopg could not even send some of these as datetimes.
    assignments = ", ".join(f"{name} = %s::timestamptz" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 (test's own names)
            [*columns.values(), pk],
        )


@pytest.mark.django_db(transaction=True)
def test_migration_0005_cleans_times_no_page_can_show(bob, alice):
    now = datetime.now(UTC)
    sched = Schedule.objects.create(name="Far", slug="far", time_zone="Etc/GMT+12")
    rotation = Rotation.objects.create(
        schedule=sched, name="Weekly", interval="weekly", starts_at=now - timedelta(days=30)
    )
    RotationMember.objects.create(rotation=rotation, user=bob)
    doomed_rotation = Rotation.objects.create(
        schedule=sched, name="Typo", interval="weekly", starts_at=now
    )
    RotationMember.objects.create(rotation=doomed_rotation, user=alice)

    def cover(**times) -> int:
        o = Override.objects.create(
            schedule=sched, user=bob, starts_at=now, ends_at=now + timedelta(hours=8)
        )
        _set("incidents_override", o.pk, **times)
        return o.pk

    # Rows as the old code let them be written (raw SQL where no entry point
    # would take them now); then back to 0004 and forward through 0005.
    try:
        # The row: 9999-12-31 in Etc/GMT+12, i.e. 10000-01-01 in UTC.
        far_future = cover(starts_at="9999-12-30 00:00-12", ends_at="9999-12-31 23:59-12")
        ancient = cover(starts_at="0001-01-01 00:00+00", ends_at="0001-01-02 00:00+00")
        current = cover(
            starts_at=(now - timedelta(hours=1)).isoformat(), ends_at="9999-12-31 12:00+00"
        )
        old_start = cover(
            starts_at="1999-06-01 00:00+00", ends_at=(now + timedelta(hours=2)).isoformat()
        )
        fine = cover(
            starts_at=(now + timedelta(days=1)).isoformat(),
            ends_at=(now + timedelta(days=2)).isoformat(),
        )
        future_detected = factories.declare(actor=bob)
        _set("incidents_incident", future_detected.pk, detected_at="9999-12-31 23:00+00")
        ancient_detected = factories.declare(actor=bob, title="Old")
        _set("incidents_incident", ancient_detected.pk, detected_at="0001-01-01 00:00+00")
        fine_detected = factories.declare(
            actor=bob, title="Fine", detected_at=now - timedelta(hours=3)
        )
        _set("incidents_rotation", rotation.pk, ends_at="10000-01-01 11:00+00")
        _set("incidents_rotation", doomed_rotation.pk, starts_at="9999-12-31 23:00+00")

        _migrate(BEFORE)
        _migrate(CLEAN)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    latest = datetime.now(UTC) + timedelta(days=5 * 366)
    kept = {o.pk: o for o in Override.objects.all()}
    assert set(kept) == {current, old_start, fine}
    assert far_future not in kept and ancient not in kept
    # Clamped at the edges, so whoever is on call now still is.
    assert kept[current].starts_at == now - timedelta(hours=1)
    assert now < kept[current].ends_at <= latest
    assert kept[old_start].starts_at == datetime(2000, 1, 1, tzinfo=UTC)
    assert kept[fine].starts_at == now + timedelta(days=1)
    for incident in (future_detected, ancient_detected):
        incident.refresh_from_db()
        assert incident.detected_at == incident.declared_at
    fine_detected.refresh_from_db()
    assert fine_detected.detected_at == now - timedelta(hours=3)
    rotation.refresh_from_db()
    assert rotation.ends_at is None
    assert not Rotation.objects.filter(pk=doomed_rotation.pk).exists()
    assert not RotationMember.objects.filter(rotation_id=doomed_rotation.pk).exists()
    assert Incident.objects.count() == 3
