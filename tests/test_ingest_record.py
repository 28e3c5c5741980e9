"""``alert_record``, the one ingestion service: what it stores and decides,
and what it costs the database (issue 10, item 9).

Query counts are taken inside the test's transaction, so each statement
that runs on its own in production also pays a SAVEPOINT and its RELEASE
here; ``statements`` leaves those two out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.errors import DomainError
from incidents.ingest.types import ParsedAlert
from incidents.models import Alert, AlertAction, EventKind, Incident, Integration, TimelineEvent
from incidents.services import alert_record, incident_resolve
from tests.ingest_support import alert

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

T0 = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def record(integration: Integration, *alerts: ParsedAlert) -> list[dict]:
    outcomes = alert_record(integration=integration, kind="generic", alerts=list(alerts))
    return [o.as_dict() for o in outcomes]


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def counts() -> list[int]:
    """Each incident's alert count, in the order they were opened."""
    return list(Incident.objects.order_by("pk").values_list("alert_count", flat=True))


# --- what is stored and decided -------------------------------------------------


def test_a_firing_alert_opens_an_incident_and_its_repeats_join_it(prom):
    first = record(prom, alert("disk"))
    repeats = record(prom, alert("disk"), alert("disk"), alert("disk"))

    ref = first[0]["incident"]
    assert first[0]["action"] == "opened"
    assert [(r["action"], r["incident"], r["duplicate"]) for r in repeats] == [
        ("joined", ref, False)
    ] * 3
    assert counts() == [4]
    assert set(Alert.objects.values_list("action", "incident__ref")) == {
        ("opened", ref),
        ("joined", ref),
    }
    # Joining is counted, not narrated: one note, from the alert that opened it.
    assert TimelineEvent.objects.filter(kind=EventKind.ALERT_RECEIVED).count() == 1


def test_replaying_a_batch_changes_nothing_and_says_so(prom):
    batch = [alert("disk"), alert("cpu"), alert("disk", "resolved")]
    first = record(prom, *batch)
    before = (counts(), Alert.objects.count(), TimelineEvent.objects.count())

    again = record(prom, *batch)

    assert (counts(), Alert.objects.count(), TimelineEvent.objects.count()) == before
    assert [r["duplicate"] for r in again] == [True, True, True]
    assert [(r["action"], r["incident"]) for r in again] == [
        (r["action"], r["incident"]) for r in first
    ]


def test_the_same_occurrence_twice_in_one_batch_is_stored_once(prom):
    once = alert("disk", key="same")
    outcomes = record(prom, once, alert("disk", key="same"))

    assert [r["duplicate"] for r in outcomes] == [False, True]
    assert Alert.objects.count() == 1 and counts() == [1]


@pytest.mark.parametrize(
    ("statuses", "actions", "open_incidents"),
    [
        # In a batch's order: joined, then the incident it joined is resolved...
        (["firing", "resolved"], ["joined", "resolved"], 0),
        # ...or resolved, then a new one opened, as if they came one by one.
        (["resolved", "firing"], ["resolved", "opened"], 1),
    ],
)
def test_a_batch_is_routed_in_its_order(prom, statuses, actions, open_incidents):
    record(prom, alert("disk"))

    outcomes = record(prom, *(alert("disk", status) for status in statuses))

    assert [r["action"] for r in outcomes] == actions
    assert Incident.objects.exclude(status="resolved").count() == open_incidents
    assert Incident.objects.get(ref=outcomes[0]["incident"]).alert_count == 1 + (
        statuses[0] == "firing"
    )


def test_an_alert_for_an_incident_resolved_by_hand_opens_a_new_one(prom, bob):
    [opened] = record(prom, alert("disk"))
    incident_resolve(
        incident=Incident.objects.get(ref=opened["incident"]),
        actor=bob,
        root_cause="Full disk",
        resolution="Rotated the logs",
    )

    [again] = record(prom, alert("disk"))

    assert again["action"] == "opened" and again["incident"] != opened["incident"]
    assert counts() == [1, 1]


def test_alerts_that_clear_or_acknowledge_nothing_are_ignored(prom):
    outcomes = record(prom, alert("disk", "resolved"), alert("cpu", "acknowledged"))

    assert [(r["action"], r["incident"]) for r in outcomes] == [("ignored", None)] * 2
    assert not Incident.objects.exists()


def test_an_alert_stored_but_never_routed_by_an_older_release_is_routed_when_replayed(prom):
    # The release before alert_record stored an alert and routed it in a
    # second transaction; a crash in between left it pending.
    pending = alert("disk", key="left-pending")
    Alert.objects.create(
        integration=prom,
        kind="generic",
        fingerprint="disk",
        occurrence_key="left-pending",
        status="firing",
        title="disk is firing",
        severity="P2",
        received_at=T0,
    )

    [outcome] = record(prom, pending)

    assert (outcome["action"], outcome["duplicate"]) == ("opened", False)
    assert Alert.objects.get().action == AlertAction.OPENED


def test_an_alert_the_database_refuses_leaves_the_rest_answered_as_they_were_stored(prom):
    """A joining alert is stored by step 2; the one the database refuses (a
    NUL PostgreSQL text cannot hold) fails step 3. The first is answered as
    stored by this request, not as a replay; the second alone is not stored."""
    [opened] = record(prom, alert("disk"))
    refused = alert("fresh", "resolved")
    refused.title = "bad\x00title"

    joined, failed = record(prom, alert("disk"), refused)

    assert (joined["action"], joined["duplicate"]) == ("joined", False)
    assert joined["incident"] == opened["incident"]
    assert failed["action"] == "not_stored"
    assert Alert.objects.filter(integration=prom).count() == 2


def test_an_unknown_kind_is_refused_naming_the_field(prom):
    with pytest.raises(DomainError) as refused:
        alert_record(integration=prom, kind="nagios", alerts=[alert()])
    assert refused.value.field == "kind"
    assert not Alert.objects.exists()


def test_last_alert_at_is_written_at_most_once_a_minute(prom, frozen):
    record(prom, alert())
    frozen.shift(timedelta(seconds=50))
    record(prom, alert())
    assert Integration.objects.get().last_alert_at == T0

    frozen.shift(timedelta(seconds=20))
    record(prom, alert())
    assert Integration.objects.get().last_alert_at == T0 + timedelta(seconds=70)


# --- what it costs ------------------------------------------------------------------


def test_a_repeat_joining_an_open_incident_costs_one_statement(prom, django_assert_max_num_queries):
    record(prom, alert("disk"))  # opens the incident
    record(prom, alert("disk"))  # the first join on this connection prepares its statement

    with django_assert_max_num_queries(3) as queries:
        [joined] = record(prom, alert("disk"))

    assert joined["action"] == "joined"
    [statement] = statements(queries)
    assert statement.startswith("EXECUTE treebeard_alert_join_1_1")


def test_a_replay_of_an_absorbed_alert_costs_one_statement(prom, django_assert_max_num_queries):
    record(prom, alert("disk"))
    absorbed = alert("disk", key="absorbed")
    record(prom, absorbed)

    with django_assert_max_num_queries(3) as queries:
        [replayed] = record(prom, alert("disk", key="absorbed"))

    assert (replayed["action"], replayed["duplicate"]) == ("joined", True)
    assert len(statements(queries)) == 1
    assert counts() == [2]


@pytest.mark.parametrize("size", [1, 10, 40])
def test_a_batch_over_open_incidents_costs_the_same_whatever_its_size(prom, size):
    fingerprints = [f"host-{n}" for n in range(10)]
    record(prom, *(alert(f) for f in fingerprints))  # opens ten incidents

    def batch():
        return [alert(fingerprints[n % 10]) for n in range(size)]

    record(prom, *batch())  # prepares the statement for this shape of batch
    with CaptureQueriesContext(connection) as queries:
        outcomes = record(prom, *batch())

    assert {r["action"] for r in outcomes} == {"joined"}
    assert len(statements(queries)) == 1
    assert sum(counts()) == 10 + 2 * size


def test_a_batch_of_new_fingerprints_is_one_insert_of_its_alerts(prom):
    with CaptureQueriesContext(connection) as queries:
        outcomes = record(prom, *(alert(f"host-{n}") for n in range(10)))

    assert [r["action"] for r in outcomes] == ["opened"] * 10
    inserts = [s for s in statements(queries) if s.startswith('INSERT INTO "incidents_alert"')]
    assert len(inserts) == 1
    assert Alert.objects.count() == 10 and sum(counts()) == 10
