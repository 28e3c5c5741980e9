"""The webhooks keep the integration they read for a few seconds, so a
storm's request is one statement; a disabled integration or a rotated token
still stops working at once, because the storing statement checks the token
itself and every other path reads the integration again."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Alert, Integration
from incidents.services.integrations import (
    integration_create,
    integration_rotate_token,
    integration_sender,
    integration_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def generic(alice) -> Integration:
    made, key = integration_create(actor=alice, name="probe", kind="generic")
    made.key = key
    return made


def send(client, key: str, dedup: str = "disk-full"):
    body = {"title": "Disk full on db-1", "status": "firing", "dedup_key": dedup}
    return client.post(
        f"/api/v1/integrations/{key}/generic/", json.dumps(body), content_type="application/json"
    )


def enqueue(client, key: str, dedup: str = "disk-full"):
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {"summary": "Disk full", "source": "db-1", "severity": "critical"},
    }
    return client.post("/v2/enqueue", json.dumps(event), content_type="application/json")


def test_a_repeat_in_a_storm_is_one_statement_once_the_sender_is_kept(client, generic):
    assert send(client, generic.key).status_code == 202  # opens the incident
    assert send(client, generic.key).status_code == 202  # the integration is kept now
    with CaptureQueriesContext(connection) as queries:
        assert send(client, generic.key).status_code == 202
    # The test runs in a transaction, so the statement's own comes as a savepoint.
    sql = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 1, sql
    assert sql[0].startswith("EXECUTE treebeard_alert_join_1_1"), sql
    assert Alert.objects.filter(integration=generic).count() == 3


def test_the_sender_is_read_again_after_a_few_seconds(generic, time_machine):
    time_machine.move_to("2026-11-28 10:00Z", tick=False)
    first = integration_sender(generic.key)
    assert first.pk == generic.pk
    assert integration_sender(generic.key) is first  # kept
    time_machine.shift(6)
    again = integration_sender(generic.key)
    assert (again.pk, again is first) == (generic.pk, False)  # read again


@pytest.mark.parametrize("dedup", ["disk-full", "a-new-fingerprint"])
@pytest.mark.parametrize("post", [send, enqueue], ids=["webhook", "enqueue"])
def test_a_disabled_integration_stops_at_once_though_a_process_kept_it(client, alice, dedup, post):
    kind = "generic" if post is send else "pagerduty"
    integration, key = integration_create(actor=alice, name="probe", kind=kind)
    assert post(client, key).status_code == 202
    assert post(client, key).status_code == 202  # kept by this process now
    # Disabled by another process: nothing here forgets what it kept.
    Integration.objects.filter(pk=integration.pk).update(enabled=False)
    stored = Alert.objects.count()

    assert post(client, key, dedup).status_code == 404
    assert Alert.objects.count() == stored


def test_a_rotated_token_stops_at_once_and_the_new_one_works(client, alice, generic):
    assert send(client, generic.key).status_code == 202
    assert send(client, generic.key).status_code == 202
    new_key = integration_rotate_token(actor=alice, integration=generic)
    assert send(client, generic.key).status_code == 404
    assert send(client, new_key).status_code == 202


def test_a_change_made_in_this_process_applies_at_once(client, alice, generic):
    assert send(client, generic.key, "a").status_code == 202
    integration_update(actor=alice, integration=generic, severity_mapping={"disk": "P3"})
    assert integration_sender(generic.key).severity_mapping == {"disk": "P3"}
