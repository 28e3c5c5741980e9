"""The demo data of ``make run``: incidents in every state and severity,
told as stories (incidents/demo.py) through the real services."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from incidents.models import EventKind, Incident, Role, Status, TimelineEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_the_demo_has_every_state_and_severity_and_runs_again_harmlessly(settings, tmp_path):
    settings.VAR_DIR = tmp_path

    call_command("seed_demo")
    call_command("seed_demo")

    incidents = list(Incident.objects.all())
    assert len(incidents) == 11
    assert {i.status for i in incidents} == set(Status.values)
    assert {i.severity for i in incidents} == {"P0", "P1", "P2", "P3"}
    by_title = {i.title: i for i in incidents}
    reopened = by_title["Orders duplicated by payment retry"]
    assert (reopened.status, reopened.reopen_count) == (Status.RESOLVED, 1)
    assert by_title["Error rate 1.2% on login (false alarm)"].false_positive
    postgres = by_title["Primary PostgreSQL unreachable"]
    assert (postgres.commander.username, postgres.communications_lead.username) == (
        "responder",
        "ellis",
    )
    assert [u.username for u in postgres.responders] == ["priya"]
    # Each step happened at its own time, minutes before the seeding.
    updates = TimelineEvent.objects.filter(incident=postgres, kind=EventKind.UPDATE_POSTED)
    assert sorted((postgres.detected_at - e.at).total_seconds() / 60 for e in updates) == [-28, -12]
    assert postgres.role_assignments.filter(role=Role.RESPONDER).count() == 1
