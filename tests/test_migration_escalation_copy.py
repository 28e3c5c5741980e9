"""Migration 0007 stores on each incident's copied escalation levels the
severities that climb by the clock, so re-planning reads the incident's copy;
levels copied before it get their policy's, as the policy is when it runs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from incidents.models import EscalationPolicy, IncidentEscalationStep
from tests import factories


def migrate(targets=None) -> None:
    """To ``targets``, or to the latest migrations when None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migration_0007_gives_steps_copied_before_it_their_policys_auto_severities(bob):
    incident = factories.declare(actor=bob, severity="P1")
    try:
        migrate([("incidents", "0006_audit_log")])
        # What the policy says when the migration runs (not what the copy
        # said): the steps copied before 0007 have no record of their own.
        EscalationPolicy.objects.filter(path="technical").update(auto_severities=["P0"])
        migrate([("incidents", "0007_escalation_step_auto_severities")])
    finally:
        migrate()

    copied = IncidentEscalationStep.objects.filter(incident=incident)
    assert {(step.path, tuple(step.auto_severities)) for step in copied} == {
        ("technical", ("P0",)),
        ("business", ("P0", "P1", "P2", "P3")),
    }
    assert copied.count() == 8
